extension ChatTemplate {
    /// The prompt text for these messages, with the assistant turn opened when `addAssistant` is true
    /// (`llama_chat_apply_template` with `add_ass`). Families without an "open the assistant turn" marker
    /// (Mistral, Llama 2, Orion) ignore `addAssistant`, as in llama.cpp.
    public func render(_ messages: [ChatMessage], addAssistant: Bool = true) -> String {
        var chat = messages
        if let system = defaultSystemMessage, let first = chat.first, first.role != "system" {
            chat.insert(.system(system), at: 0)
        }
        var out = ""
        switch family {
        case .chatml:
            for m in chat { out += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n" }
            if addAssistant { out += "<|im_start|>assistant\n" }
        case .mistralV7, .mistralV7Tekken:
            let space = family == .mistralV7 ? " " : ""
            for m in chat {
                switch m.role {
                case "system": out += "[SYSTEM_PROMPT]\(space)\(m.content)[/SYSTEM_PROMPT]"
                case "user": out += "[INST]\(space)\(m.content)[/INST]"
                default: out += "\(space)\(m.content)</s>"
                }
            }
        case .mistralV1, .mistralV3, .mistralV3Tekken:
            let leading = family == .mistralV1 ? " " : ""
            let trailing = family == .mistralV3Tekken ? "" : " "
            var insideTurn = false
            for m in chat {
                if !insideTurn {
                    out += "\(leading)[INST]\(trailing)"
                    insideTurn = true
                }
                switch m.role {
                case "system": out += "\(m.content)\n\n"
                case "user": out += "\(m.content)\(leading)[/INST]"
                default:
                    out += trailing + (family == .mistralV3 ? ChatTemplate.trim(m.content) : m.content) + "</s>"
                    insideTurn = false
                }
            }
        case .llama2, .llama2Sys, .llama2SysBOS, .llama2SysStrip:
            let supportsSystem = family != .llama2
            var insideTurn = true
            out += "[INST] "
            for m in chat {
                let content = family == .llama2SysStrip ? ChatTemplate.trim(m.content) : m.content
                if !insideTurn {
                    insideTurn = true
                    out += family == .llama2SysBOS ? "\(bosText)[INST] " : "[INST] "
                }
                switch m.role {
                case "system": out += supportsSystem ? "<<SYS>>\n\(content)\n<</SYS>>\n\n" : "\(content)\n"
                case "user": out += "\(content) [/INST]"
                default:
                    out += "\(content)</s>"
                    insideTurn = false
                }
            }
        case .phi3:
            for m in chat { out += "<|\(m.role)|>\n\(m.content)<|end|>\n" }
            if addAssistant { out += "<|assistant|>\n" }
        case .phi4:
            for m in chat { out += "<|im_start|>\(m.role)<|im_sep|>\(m.content)<|im_end|>" }
            if addAssistant { out += "<|im_start|>assistant<|im_sep|>" }
        case .falcon3:
            for m in chat { out += "<|\(m.role)|>\n\(m.content)\n" }
            if addAssistant { out += "<|assistant|>\n" }
        case .zephyr:
            for m in chat { out += "<|\(m.role)|>\n\(m.content)<|endoftext|>\n" }
            if addAssistant { out += "<|assistant|>\n" }
        case .monarch:
            for (i, m) in chat.enumerated() { out += (i == 0 ? "" : bosText) + "\(m.role)\n\(m.content)\(eosText)\n" }
            if addAssistant { out += "\(bosText)assistant\n" }
        case .gemma:
            var system = ""
            for m in chat {
                if m.role == "system" {
                    system += ChatTemplate.trim(m.content)
                    continue
                }
                let role = m.role == "assistant" ? "model" : m.role
                out += "<start_of_turn>\(role)\n"
                if !system.isEmpty && role != "model" {
                    out += "\(system)\n\n"
                    system = ""
                }
                out += ChatTemplate.trim(m.content) + "<end_of_turn>\n"
            }
            if addAssistant { out += "<start_of_turn>model\n" }
        case .orion:
            var system = ""
            for m in chat {
                switch m.role {
                case "system": system += m.content
                case "user":
                    out += "Human: "
                    if !system.isEmpty {
                        out += "\(system)\n\n"
                        system = ""
                    }
                    out += "\(m.content)\n\nAssistant: </s>"
                default: out += "\(m.content)</s>"
                }
            }
        case .openchat:
            for m in chat {
                if m.role == "system" {
                    out += "\(m.content)<|end_of_turn|>"
                } else {
                    out += "GPT4 Correct \(m.role.prefix(1).uppercased() + m.role.dropFirst()): \(m.content)<|end_of_turn|>"
                }
            }
            if addAssistant { out += "GPT4 Correct Assistant:" }
        case .vicuna, .vicunaOrca:
            for m in chat {
                switch m.role {
                case "system": out += family == .vicunaOrca ? "SYSTEM: \(m.content)\n" : "\(m.content)\n\n"
                case "user": out += "USER: \(m.content)\n"
                case "assistant": out += "ASSISTANT: \(m.content)</s>\n"
                default: break
                }
            }
            if addAssistant { out += "ASSISTANT:" }
        case .deepseek:
            for m in chat {
                switch m.role {
                case "system": out += m.content
                case "user": out += "### Instruction:\n\(m.content)\n"
                case "assistant": out += "### Response:\n\(m.content)\n<|EOT|>\n"
                default: break
                }
            }
            if addAssistant { out += "### Response:\n" }
        case .deepseek2:
            for m in chat {
                switch m.role {
                case "system": out += "\(m.content)\n\n"
                case "user": out += "User: \(m.content)\n\n"
                case "assistant": out += "Assistant: \(m.content)<｜end▁of▁sentence｜>"
                default: break
                }
            }
            if addAssistant { out += "Assistant:" }
        case .deepseek3:
            for m in chat {
                switch m.role {
                case "system": out += "\(m.content)\n\n"
                case "user": out += "<｜User｜>\(m.content)"
                case "assistant": out += "<｜Assistant｜>\(m.content)<｜end▁of▁sentence｜>"
                default: break
                }
            }
            if addAssistant { out += "<｜Assistant｜>" }
        case .commandR:
            for m in chat {
                let content = ChatTemplate.trim(m.content)
                switch m.role {
                case "system": out += "<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>\(content)<|END_OF_TURN_TOKEN|>"
                case "user": out += "<|START_OF_TURN_TOKEN|><|USER_TOKEN|>\(content)<|END_OF_TURN_TOKEN|>"
                case "assistant": out += "<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>\(content)<|END_OF_TURN_TOKEN|>"
                default: break
                }
            }
            if addAssistant { out += "<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>" }
        case .chatglm3:
            out += "[gMASK]sop"
            for m in chat { out += "<|\(m.role)|>\n \(m.content)" }
            if addAssistant { out += "<|assistant|>" }
        case .chatglm4:
            out += "[gMASK]<sop>"
            for m in chat { out += "<|\(m.role)|>\n\(m.content)" }
            if addAssistant { out += "<|assistant|>\n" }
        case .glmedge:
            for m in chat { out += "<|\(m.role)|>\n\(m.content)" }
            if addAssistant { out += "<|assistant|>" }
        case .granite:
            for m in chat {
                out += "<|start_of_role|>\(m.role)<|end_of_role|>"
                if m.role == "assistant_tool_call" { out += "<|tool_call|>" }
                out += "\(m.content)<|end_of_text|>\n"
            }
            if addAssistant { out += "<|start_of_role|>assistant<|end_of_role|>" }
        case .llama3:
            for m in chat {
                out += "<|start_header_id|>\(m.role)<|end_header_id|>\n\n\(ChatTemplate.trim(m.content))<|eot_id|>"
            }
            if addAssistant { out += "<|start_header_id|>assistant<|end_header_id|>\n\n" }
        }
        return out
    }

    /// llama.cpp's `trim`: C-locale whitespace off both ends.
    static func trim(_ s: String) -> String {
        let bytes = Array(s.utf8)
        var start = 0, end = bytes.count
        while start < end && Tokenizer.isCSpace(bytes[start]) { start += 1 }
        while end > start && Tokenizer.isCSpace(bytes[end - 1]) { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}
