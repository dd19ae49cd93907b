print("wharfctl: not built yet")
