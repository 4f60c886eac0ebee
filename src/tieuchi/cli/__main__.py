from tieuchi.cli import main

main()
