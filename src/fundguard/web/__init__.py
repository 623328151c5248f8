"""Web pages (Chinese UI) over the services."""
