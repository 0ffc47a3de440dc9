import Foundation
import GGUF
import Shimmy
import ShimmyTestSupport
import Testing

/// A chat prompt of `../shared/reference/generation.json`.
struct ReferenceChatPrompt: Sendable, Decodable, CustomTestStringConvertible {
    var id: String
    var kind: String
    var prompt: String
    var prompt_ids: [Int32]
    var user_message: String?
    var testDescription: String { id }

    struct File: Decodable { var prompts: [ReferenceChatPrompt] }
    static let all: [ReferenceChatPrompt] = {
        guard let data = try? Data(contentsOf: TestPaths.reference("generation.json")),
              let file = try? JSONDecoder().decode(File.self, from: data) else { return [] }
        return file.prompts.filter { $0.kind == "chat" }
    }()
}

/// A template of `Fixtures/tokenizer/chat-templates.json` with llama.cpp's rendering of a fixed conversation.
struct ChatTemplateCase: Sendable, Decodable, CustomTestStringConvertible {
    var name: String
    var template: String
    var expected: String
    var expected_no_assistant: String
    var testDescription: String { name }

    struct File: Decodable {
        var conversation: [ChatMessage]
        var cases: [ChatTemplateCase]
    }
    static let file: File? = {
        let url = TestPaths.repositoryRoot.appendingPathComponent("Fixtures/tokenizer/chat-templates.json")
        guard let data = try? Data(contentsOf: url) else { return nil }
        return try? JSONDecoder().decode(File.self, from: data)
    }()

    /// Templates whose family shimmy does not render (they fall back to ChatML).
    static let unsupported: Set<String> = [
        "ai-sage/GigaChat-20B-A3B-instruct", "yandex/YandexGPT-5-Lite-8B-instruct",
        "ibm-granite/granite-4.0 (tool call)", "ibm-granite/granite-4.1 (tool call)",
    ]
}

@Suite("ChatTemplate")
struct ChatTemplateTests {
    static let smolTemplate = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"

    @Test func referencePromptsPresent() {
        #expect(ReferenceChatPrompt.all.count >= 10, "generation.json chat prompts missing")
        #expect((ChatTemplateCase.file?.cases.count ?? 0) >= 30, "chat-templates.json missing")
    }

    /// The default model's template inserts its default system message; the prompt and its ids equal llama.cpp's.
    @Test(arguments: ReferenceChatPrompt.all)
    func defaultModelChatPrompt(_ p: ReferenceChatPrompt) throws {
        let tokenizer = try TokenizerFixtures.tokenizer()
        let file = try GGUFFile(contentsOf: TestPaths.defaultModel)
        let template = ChatTemplate(gguf: file, tokenizer: tokenizer)
        let message = try #require(p.user_message)
        let prompt = template.render([.user(message)])
        #expect(prompt == p.prompt, "got \(prompt.debugDescription)")
        let ids = tokenizer.encode(prompt, addSpecial: true, parseSpecial: true)
        #expect(ids == p.prompt_ids, "\(idDifference(ids, p.prompt_ids))")
    }

    @Test func defaultModelTemplateFacts() throws {
        let tokenizer = try TokenizerFixtures.tokenizer()
        let template = ChatTemplate(gguf: try GGUFFile(contentsOf: TestPaths.defaultModel), tokenizer: tokenizer)
        #expect(template.family == .chatml)
        #expect(template.recognized)
        #expect(template.defaultSystemMessage == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        // a conversation that starts with a system message keeps it and gets no default one
        let own = template.render([.system("Be brief."), .user("Hi")])
        #expect(own == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        // no messages: the template's loop never runs, so no system message either
        #expect(template.render([]) == "<|im_start|>assistant\n")
        #expect(template.render([.user("Hi")], addAssistant: false)
                == "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n")
    }

    @Test(arguments: ChatTemplateCase.file?.cases ?? [])
    func rendersLikeLlamaCpp(_ c: ChatTemplateCase) throws {
        let conversation = try #require(ChatTemplateCase.file?.conversation)
        let template = ChatTemplate(template: c.template)
        if ChatTemplateCase.unsupported.contains(c.name) {
            #expect(!template.recognized, "\(c.name) was expected to be unsupported but is \(template.family)")
            #expect(template.family == .chatml)
            return
        }
        #expect(template.recognized, "not recognised")
        let got = template.render(conversation)
        #expect(got == c.expected, "family \(template.family): got \(got.debugDescription) want \(c.expected.debugDescription)")
        let open = template.render(conversation, addAssistant: false)
        #expect(open == c.expected_no_assistant, "family \(template.family) without assistant: got \(open.debugDescription)")
    }

    @Test(arguments: [
        ("{% for m in messages %}{{ m.content }}{% endfor %}", ChatTemplate.Family.chatml, false),
        ("", .chatml, false),
        ("<|im_start|>{{ x }}", .chatml, true),
        ("{{ '<start_of_turn>' }}", .gemma, true),
        ("<|start_header_id|>{{ role }}<|end_header_id|>", .llama3, true),
        ("<|user|>{{ c }}<|assistant|><|end|>", .phi3, true),
        ("<|user|>{{ c }}<|endoftext|>", .zephyr, true),
        ("[INST] <<SYS>>", .llama2Sys, true),
        ("[INST] {{ content }} [/INST]", .llama2, true),
        ("{{ bos_token + '[INST] ' }}", .llama2SysBOS, true),
        ("mistral-v7", .mistralV7, true),
    ])
    func detection(_ template: String, _ family: ChatTemplate.Family, _ recognized: Bool) {
        let t = ChatTemplate(template: template)
        #expect(t.family == family)
        #expect(t.recognized == recognized)
        #expect(t.defaultSystemMessage == nil)
    }

    @Test func nilTemplateIsChatML() {
        let t = ChatTemplate(template: nil)
        #expect(t.family == .chatml && !t.recognized)
        #expect(t.render([.user("x")]) == "<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n")
    }

    @Test func defaultSystemFromQwenStyleTemplate() {
        let qwen = "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}{%- else %}{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}{%- endif %}"
        let t = ChatTemplate(template: qwen)
        #expect(t.defaultSystemMessage == "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.")
        #expect(ChatTemplate(template: Self.smolTemplate).defaultSystemMessage == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
    }
}
