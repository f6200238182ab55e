"""The HTTP routes, one module per resource group."""
