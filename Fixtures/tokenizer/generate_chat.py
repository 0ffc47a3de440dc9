"""Regenerates chat-templates.json: real model chat templates (as listed in llama.cpp's tests/test-chat-template.cpp)
and what llama.cpp's llama_chat_apply_template renders for a fixed conversation, with and without the assistant
turn opened. Run with a python that has llama_cpp:  python generate_chat.py PATH/TO/test-chat-template.cpp
"""
import ast, ctypes, json, os, re, sys

import llama_cpp

HERE = os.path.dirname(os.path.abspath(__file__))
CONVERSATION = [
    ("system", "You are a helpful assistant"),
    ("user", "Hello"),
    ("assistant", "Hi there"),
    ("user", "Who are you"),
    ("assistant", "   I am an assistant   "),
    ("user", "Another question"),
]


def templates(path):
    src = open(path, encoding="utf-8").read()
    out = []
    for m in re.finditer(r'/\* \.name= \*/\s*(u8)?("(?:[^"\\]|\\.)*")\s*,(?:\s*//[^\n]*)*\s*/\* \.template_str= \*/\s*((?:u8)?"(?:[^"\\]|\\.)*"(?:\s*(?:u8)?"(?:[^"\\]|\\.)*")*)', src):
        name = ast.literal_eval(m.group(2))
        literal = re.sub(r'(^|\s)u8"', r'\1"', m.group(3))
        out.append((name, ast.literal_eval("(" + literal + ")") if literal.count('"') > 2 else ast.literal_eval(literal)))
    return out


def apply(tmpl, add_ass):
    msgs = (llama_cpp.llama_chat_message * len(CONVERSATION))()
    keep = []
    for i, (role, content) in enumerate(CONVERSATION):
        r, c = role.encode(), content.encode()
        keep += [r, c]
        msgs[i].role = r
        msgs[i].content = c
    buf = ctypes.create_string_buffer(1 << 16)
    n = llama_cpp.llama_chat_apply_template(tmpl.encode(), msgs, len(CONVERSATION), add_ass, buf, len(buf))
    if n < 0:
        return None
    return buf.raw[:n].decode()


EXTRA = [
    ("HuggingFaceTB/SmolLM2-135M-Instruct", "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"),
    ("stabilityai/stablelm-2-zephyr-1_6b", "{% for message in messages %}{% if message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|endoftext|>'}}{% elif message['role'] == 'system' %}{{'<|system|>\n' + message['content'] + '<|endoftext|>'}}{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n'  + message['content'] + '<|endoftext|>'}}{% endif %}{% if loop.last and add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}{% endfor %}"),
    ("built-in name llama3", "llama3"),
    ("built-in name zephyr", "zephyr"),
    ("built-in name deepseek3", "deepseek3"),
]


def main():
    cases = []
    for name, tmpl in templates(sys.argv[1]) + EXTRA:
        rendered = apply(tmpl, True)
        if rendered is None:
            continue  # a family llama.cpp's built-in list does not support
        cases.append({"name": name, "template": tmpl, "expected": rendered, "expected_no_assistant": apply(tmpl, False)})
    conversation = [{"role": r, "content": c} for r, c in CONVERSATION]
    with open(os.path.join(HERE, "chat-templates.json"), "w") as f:
        json.dump({"source": "llama-cpp-python 0.3.36 llama_chat_apply_template", "conversation": conversation,
                   "cases": cases}, f, indent=1, ensure_ascii=False)
    print(len(cases), "templates")


if __name__ == "__main__":
    main()
