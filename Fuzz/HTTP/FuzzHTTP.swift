// libFuzzer target: the incremental HTTP/1.1 request parser (`HTTPRequestParser`).
// Built by scripts/fuzz.sh with Sources/ShimmyServer/HTTP/HTTPRequest{,Parser}.swift; not part of the package.
//
// Byte 0 picks the limits (default or tiny, so the size checks are reached), byte 1 the chunk size the rest is fed
// in. The same bytes are also parsed in one piece; both runs must give the same requests and the same error,
// because a TCP stream can split anywhere. A difference is a bug and stops the fuzzer.

/// Keeps results from being optimized away.
nonisolated(unsafe) var fuzzSink = 0

/// What one parse produced: the requests, then the error that ended it (or nil: more bytes needed).
struct HTTPParseOutcome: Equatable {
    var requests: [HTTPRequest] = []
    var error: HTTPParseError?
}

func parseHTTP(_ bytes: ArraySlice<UInt8>, limits: HTTPLimits, chunk: Int) -> HTTPParseOutcome {
    var parser = HTTPRequestParser(limits: limits)
    var outcome = HTTPParseOutcome()
    var start = bytes.startIndex
    repeat {
        let end = min(bytes.endIndex, start + chunk)
        parser.feed(bytes[start..<end])
        start = end
        do {
            while let request = try parser.next() {
                outcome.requests.append(request)
                // what the router reads of every request
                fuzzSink &+= request.path.utf8.count + (request.keepAlive ? 1 : 0)
                fuzzSink &+= request.header("content-type")?.utf8.count ?? 0
            }
        } catch {
            fuzzSink &+= error.status + error.description.utf8.count
            outcome.error = error
            return outcome
        }
        fuzzSink &+= (parser.isIdle ? 1 : 0) + (parser.takeContinueRequest() ? 1 : 0)
    } while start < bytes.endIndex
    return outcome
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count >= 2 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    let limits = bytes[0] & 1 == 0
        ? HTTPLimits()
        : HTTPLimits(maxHeaderBytes: 64 + Int(bytes[0] >> 1), maxHeaderCount: 4, maxBodyBytes: 32 + Int(bytes[0]))
    let chunk = Int(bytes[1] % 16) + 1
    let input = bytes[2...]
    let whole = parseHTTP(input, limits: limits, chunk: max(1, input.count))
    let pieces = parseHTTP(input, limits: limits, chunk: chunk)
    guard whole == pieces else {
        print("whole: \(whole)\npieces of \(chunk): \(pieces)")
        fatalError("HTTPRequestParser gave different results for different chunkings")
    }
    return 0
}
