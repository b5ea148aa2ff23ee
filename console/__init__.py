"""The console process (`python -m console`): the web page for knowledge managers, a thin
client of the admin API."""
