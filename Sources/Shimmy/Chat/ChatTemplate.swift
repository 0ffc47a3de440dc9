import GGUF
import Logging

/// Renders chat messages into a prompt the way llama.cpp's built-in chat templates do: the model's
/// `tokenizer.chat_template` is recognised by the same substring tests as `llm_chat_detect_template`, and the
/// family's format is written directly (no Jinja engine). ChatML templates that insert a fixed default system
/// message when the first message is not a system one (SmolLM2, Qwen2.5) get it inserted here too, so the
/// prompt equals what the template itself produces. An unrecognised template falls back to ChatML with a
/// warning.
///
/// ```swift
/// let template = ChatTemplate(gguf: file, tokenizer: tokenizer)
/// let prompt = template.render([.user("What is the capital of France?")])
/// let ids = tokenizer.encode(prompt, addSpecial: true, parseSpecial: true)
/// ```
///
/// The rendered text never starts with the BOS text: BOS comes from `encode(addSpecial: true)`.
public struct ChatTemplate: Sendable {
    /// A template family, named as llama.cpp names its built-in templates.
    public enum Family: String, Sendable, CaseIterable {
        case chatml
        case llama2
        case llama2Sys = "llama2-sys"
        case llama2SysBOS = "llama2-sys-bos"
        case llama2SysStrip = "llama2-sys-strip"
        case mistralV1 = "mistral-v1"
        case mistralV3 = "mistral-v3"
        case mistralV3Tekken = "mistral-v3-tekken"
        case mistralV7 = "mistral-v7"
        case mistralV7Tekken = "mistral-v7-tekken"
        case phi3
        case phi4
        case falcon3
        case zephyr
        case monarch
        case gemma
        case orion
        case openchat
        case vicuna
        case vicunaOrca = "vicuna-orca"
        case deepseek
        case deepseek2
        case deepseek3
        case commandR = "command-r"
        case llama3
        case chatglm3
        case chatglm4
        case glmedge
        case granite
    }

    /// The recognised family.
    public let family: Family
    /// The system message the template inserts when the conversation does not start with one (ChatML only).
    public let defaultSystemMessage: String?
    /// Whether the template was recognised (false: ChatML fallback, or no template at all).
    public let recognized: Bool
    let bosText: String
    let eosText: String

    static let logger = Logger(label: "shimmy.chat")

    /// Detects the family of a template text (or a built-in name such as `chatml` or `llama3`).
    /// `bosText`/`eosText` are written where a family puts BOS/EOS inside the history (`llama2-sys-bos`,
    /// `monarch`); empty means llama.cpp's literal `<s>`/`</s>`. A nil or empty template means ChatML.
    public init(template: String?, bosText: String = "", eosText: String = "") {
        self.bosText = bosText.isEmpty ? "<s>" : bosText
        self.eosText = eosText.isEmpty ? "</s>" : eosText
        guard let template, !template.isEmpty else {
            family = .chatml
            recognized = false
            defaultSystemMessage = nil
            return
        }
        if let detected = ChatTemplate.detect(template) {
            family = detected
            recognized = true
        } else {
            family = .chatml
            recognized = false
            ChatTemplate.logger.warning("unrecognised chat template, using ChatML",
                                        metadata: ["template_prefix": "\(template.prefix(80))"])
        }
        defaultSystemMessage = family == .chatml ? ChatTemplate.defaultSystem(in: template) : nil
    }

    /// Reads `tokenizer.chat_template` from the model file (ChatML when it has none).
    public init(gguf file: GGUFFile, tokenizer: Tokenizer) {
        let bos = tokenizer.bosToken.flatMap { tokenizer.tokenText($0) } ?? ""
        let eos = tokenizer.eosToken.flatMap { tokenizer.tokenText($0) } ?? ""
        self.init(template: file["tokenizer.chat_template"]?.stringValue, bosText: bos, eosText: eos)
    }

    /// `llm_chat_detect_template` for the families above; nil when none matches.
    static func detect(_ t: String) -> Family? {
        if let named = Family(rawValue: t) { return named }
        func has(_ s: String) -> Bool { t.contains(s) }
        if has("<|im_start|>") {
            if has("<|im_sep|>") { return .phi4 }
            if has("<end_of_utterance>") { return nil }  // SmolVLM: not ChatML
            return .chatml
        }
        if t.hasPrefix("mistral") || has("[INST]") {
            if has("[SYSTEM_PROMPT]") { return .mistralV7 }
            if has("' [INST] ' + system_message") || has("[AVAILABLE_TOOLS]") {
                if has(" [INST]") { return .mistralV1 }
                if has("\"[INST]\"") { return .mistralV3Tekken }
                return .mistralV3
            }
            if has("content.strip()") { return .llama2SysStrip }
            if has("bos_token + '[INST]") { return .llama2SysBOS }
            if has("<<SYS>>") { return .llama2Sys }
            return .llama2
        }
        if has("<|assistant|>") && has("<|end|>") { return .phi3 }
        if has("[gMASK]<sop>") { return .chatglm4 }
        if has("<|assistant|>") && has("<|user|>") {
            if has("<|tool_declare|>") { return nil }
            return has("</s>") ? .falcon3 : .glmedge
        }
        if has("<|{{ item['role'] }}|>") && has("<|begin_of_image|>") { return .glmedge }
        if has("<|user|>") && has("<|endoftext|>") { return .zephyr }
        if has("bos_token + message['role']") { return .monarch }
        if has("<start_of_turn>") { return .gemma }
        if has("'\\n\\nAssistant: ' + eos_token") { return .orion }
        if has("GPT4 Correct ") { return .openchat }
        if has("USER: ") && has("ASSISTANT: ") { return has("SYSTEM: ") ? .vicunaOrca : .vicuna }
        if has("### Instruction:") && has("<|EOT|>") { return .deepseek }
        if has("<|START_OF_TURN_TOKEN|>") && has("<|USER_TOKEN|>") { return .commandR }
        if has("<|start_header_id|>") && has("<|end_header_id|>") { return .llama3 }
        if has("[gMASK]sop") { return .chatglm3 }
        if has("<用户>") { return nil }
        if has("'Assistant: ' + message['content'] + eos_token") { return .deepseek2 }
        if has("<｜Assistant｜>") && has("<｜User｜>") && has("<｜end▁of▁sentence｜>") { return .deepseek3 }
        if has("[|system|]") && has("[|assistant|]") && has("[|endofturn|]") { return nil }
        if has("rwkv-world") || has("{{- 'User: ' + message['content']|trim + '\\n\\n' -}}") { return nil }
        if has("<|start_of_role|>") { return has("<tool_call>") || has("<tools>") ? nil : .granite }
        return nil
    }

    /// A fixed `<|im_start|>system\n...<|im_end|>` written as a literal in the template: the system message
    /// it inserts when the conversation has none (SmolLM2: "You are a helpful AI assistant named SmolLM, ...").
    static func defaultSystem(in template: String) -> String? {
        let t = template.replacingOccurrences(of: "\\n", with: "\n")
        let opener = "<|im_start|>system\n"
        var searchFrom = t.startIndex
        while let open = t.range(of: opener, range: searchFrom..<t.endIndex) {
            searchFrom = open.upperBound
            guard let close = t.range(of: "<|im_end|>", range: open.upperBound..<t.endIndex) else { return nil }
            let text = t[open.upperBound..<close.lowerBound]
            // a literal message only: no Jinja expression, no string concatenation
            if text.isEmpty || text.contains("{") || text.contains("}") || text.contains("'") || text.contains("\"") {
                continue
            }
            return String(text)
        }
        return nil
    }
}
