// libFuzzer target: request JSON decoding: `JSONParser` and every body decoder of the three APIs.
// Built by scripts/fuzz.sh with Sources/ShimmyServer/JSON and API files and Shimmy's value types; not in the package.
//
// A document that parses must serialize to text that parses back to the same value.

/// Keeps results from being optimized away.
nonisolated(unsafe) var fuzzSink = 0

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let body = Array(UnsafeBufferPointer(start: data, count: count))
    if let value = try? JSONParser.parse(body) {
        let text = value.serializedBytes
        guard let again = try? JSONParser.parse(text), again.serialized == value.serialized else {
            print("serialized: \(value.serialized)")
            fatalError("serialized JSON did not parse back to the same value")
        }
    }
    // Ollama's decoders answer nil for a request that only loads the model
    let decoders: [([UInt8]) throws -> DecodedGeneration?] = [
        OpenAIRequestDecoder.chat, OpenAIRequestDecoder.completion, ShimmyRequestDecoder.generate,
        { try OllamaRequestDecoder.chat($0).generation },
        { try OllamaRequestDecoder.generate(FieldReader.parse($0)).generation },
    ]
    for decode in decoders {
        do {
            guard let decoded = try decode(body) else { continue }
            let request = decoded.generationRequest(contextLength: 2048, promptTokens: 10)
            fuzzSink &+= request.maxTokens + decoded.stop.count
        } catch {
            fuzzSink &+= APIError(error).status + APIError(error).json.serialized.utf8.count
        }
    }
    if let model = try? OllamaRequestDecoder.showModel(body) { fuzzSink &+= model.utf8.count }
    return 0
}
