"""The query API: read models merged from every worker's partials, answered by pure functions."""
