// Uplink module.
