import GGUF
import Testing
@testable import Shimmy

@Suite("ModelQuantizer plan")
struct ModelQuantizerPlanTests {
    static func info(_ name: String, _ dims: [Int], _ type: GGMLType = .q4_1) -> GGUFTensorInfo {
        GGUFTensorInfo(name: name, dimensions: dims, type: type, offset: 0)
    }

    @Test("tensors are ordered like llama.cpp's loader: non-layer first, then by layer number, then by name")
    func order() {
        let names = ["blk.10.ffn_up.weight", "token_embd.weight", "blk.2.attn_q.weight", "output_norm.weight",
                     "blk.2.attn_k.weight", "blk.1.ffn_down.weight", "blkx.weight"]
        let plan = QuantizePlan(tensors: names.map { Self.info($0, [64, 64]) }, type: .q8_0)
        let got = plan.entries.map(\.source.name)
        let want = ["blkx.weight", "output_norm.weight", "token_embd.weight", "blk.1.ffn_down.weight",
                    "blk.2.attn_k.weight", "blk.2.attn_q.weight", "blk.10.ffn_up.weight"]
        #expect(got == want, "order: \(got)")
    }

    @Test("sscanf-style layer numbers", arguments: [
        ("blk.0.attn_q.weight", 0), ("blk.29.x", 29), ("blk.x.y", -1), ("token_embd.weight", -1), ("blk.7", 7),
    ])
    func layerNumbers(name: String, layer: Int) {
        #expect(QuantizePlan.layerNumber(name) == layer, "\(name) -> \(QuantizePlan.layerNumber(name))")
    }

    @Test("only 2-D weights other than norms and special tensors are converted; odd rows fall back to F16")
    func targets() {
        let tensors = [
            Self.info("blk.0.attn_q.weight", [576, 576]),
            Self.info("blk.0.attn_norm.weight", [576], .f32),
            Self.info("blk.0.ffn_gate_inp.weight", [576, 8]),
            Self.info("position_embd.weight", [576, 2048], .f32),
            Self.info("blk.0.attn_q.bias", [576, 4], .f32),
            Self.info("blk.0.column.weight", [576, 1], .f32),     // ggml_n_dims == 1
            Self.info("blk.0.odd.weight", [48, 4], .f32),         // 48 % 32 != 0
            Self.info("output.weight", [576, 100], .q8_0),
        ]
        let plan = QuantizePlan(tensors: tensors, type: .q4_0)
        let targets = Dictionary(uniqueKeysWithValues: plan.entries.map { ($0.source.name, $0.target) })
        let want: [String: GGMLType] = [
            "blk.0.attn_q.weight": .q4_0, "blk.0.attn_norm.weight": .f32, "blk.0.ffn_gate_inp.weight": .q4_1,
            "position_embd.weight": .f32, "blk.0.attn_q.bias": .f32, "blk.0.column.weight": .f32,
            "blk.0.odd.weight": .f16, "output.weight": .q4_0,
        ]
        for (name, type) in want {
            #expect(targets[name] == type, "\(name): \(String(describing: targets[name])), want \(type)")
        }
    }
}
