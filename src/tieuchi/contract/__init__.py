"""The data contract in code: survey columns and their aliases, the household document, reading, parsing,
validating and writing survey tables, the data-entry template, ages."""
