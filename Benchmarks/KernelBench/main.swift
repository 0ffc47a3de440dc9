// Kernel microbenchmarks; prints JSON. Filled in by the kernel work.
print("{}")
