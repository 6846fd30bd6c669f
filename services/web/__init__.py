"""Serving the route table on the Faust web server."""
