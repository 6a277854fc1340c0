"""The commissioner's report: table, CSV, JSON and the HTML page."""
