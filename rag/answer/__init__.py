"""Answer engines and the checks every answer passes before it is shown."""
