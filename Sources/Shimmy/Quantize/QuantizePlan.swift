import GGUF

/// What `ModelQuantizer` does with each tensor, decided the way `llama-quantize --pure` decides it.
struct QuantizePlan {
    /// One output tensor: its source info and the type it is written as.
    struct Entry {
        let source: GGUFTensorInfo
        let target: GGMLType
        /// Whether the bytes change (dequantize to f32, then convert); otherwise they are copied.
        var converts: Bool { source.type != target }
    }

    let entries: [Entry]

    // ref: llama-quant.cpp llama_model_quantize_impl, tensor_allows_quantization, tensor_type_fallback
    /// Plans every tensor of `tensors` for target `type`, in llama.cpp's output order.
    init(tensors: [GGUFTensorInfo], type: GGMLType) {
        entries = tensors.sorted(by: Self.loaderOrder).map { info in
            guard Self.allowsQuantization(info) else { return Entry(source: info, target: info.type) }
            // a row that does not fill whole blocks falls back to F16, as llama.cpp does for 32-blocks
            let target = info.rowLength % type.blockSize == 0 ? type : .f16
            return Entry(source: info, target: target)
        }
    }

    /// `ggml_n_dims`: the number of dimensions with trailing ones dropped (at least 1).
    static func effectiveDimensionCount(_ dims: [Int]) -> Int {
        var n = dims.count
        while n > 1 && dims[n - 1] == 1 { n -= 1 }
        return max(n, 1)
    }

    /// `tensor_allows_quantization` for the default parameters: 2-D (or more) weights, except norms,
    /// expert gates, positional and token-type embeddings and a few small special tensors.
    static func allowsQuantization(_ info: GGUFTensorInfo) -> Bool {
        guard effectiveDimensionCount(info.dimensions) >= 2 else { return false }
        let name = info.name
        guard name.hasSuffix("weight") else { return false }
        let excludedParts = [
            "_norm.weight", "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup", "laurel",
            "per_layer_model_proj", "ssm_conv1d", "shortconv.conv.weight", "indexer.k_proj.weight",
            "indexer.q_proj.weight", "time_mix_first.weight",
        ]
        if excludedParts.contains(where: { name.contains($0) }) { return false }
        if name == "position_embd.weight" || name == "token_types.weight" { return false }
        return true
    }

    // ref: llama-model-loader.h weight_name_comparer
    /// The loader's tensor order: by layer number (`blk.N.`; -1 for tensors outside a layer), then by name
    /// compared byte by byte.
    static func loaderOrder(_ a: GGUFTensorInfo, _ b: GGUFTensorInfo) -> Bool {
        let la = layerNumber(a.name), lb = layerNumber(b.name)
        if la != lb { return la < lb }
        return a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
    }

    /// `sscanf(name, "blk.%d.", &layer)`: the integer after `blk.`, or -1.
    static func layerNumber(_ name: String) -> Int {
        guard name.hasPrefix("blk.") else { return -1 }
        var digits = name.utf8.dropFirst(4)
        var negative = false
        if let sign = digits.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            negative = sign == UInt8(ascii: "-")
            digits = digits.dropFirst()
        }
        var value = 0
        var any = false
        for c in digits {
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { break }
            any = true
            value = min(value * 10 + Int(c - UInt8(ascii: "0")), Int(Int32.max))
        }
        guard any else { return -1 }
        return negative ? -value : value
    }
}
