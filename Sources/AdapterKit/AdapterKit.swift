// AdapterKit module.
