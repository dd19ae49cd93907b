// WharfConfig module.
