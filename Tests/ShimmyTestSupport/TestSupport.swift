// Test support: GGUF builders and fixture paths.
