// What the fuzz targets share: turning the fuzzer's bytes into an argv, and stopping loudly
// when an invariant breaks (libFuzzer then saves the input as a crash-* file).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

namespace nsp::fuzz {

// The input, quoted for a report: printable ASCII as is, anything else as \xNN.
inline std::string quoted(std::string_view text) {
    std::string out;
    for (const unsigned char c : text) {
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out += static_cast<char>(c);
        } else {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
            out += escaped;
        }
    }
    return out;
}

// The input as a command line, in /proc/<pid>/cmdline's format: words separated by NUL bytes,
// a NUL after the last word optional. `program` is argv[0]; argv[argc] is nullptr.
class arguments {
  public:
    arguments(std::string program, const uint8_t* data, size_t size) {
        words_.push_back(std::move(program));
        const std::string_view text(reinterpret_cast<const char*>(data), size);
        for (size_t start = 0; start < text.size() && words_.size() <= max_words;) {
            size_t end = text.find('\0', start);
            if (end == std::string_view::npos) end = text.size();
            words_.emplace_back(text.substr(start, end - start));
            start = end + 1;
        }
        for (const std::string& word : words_)
            pointers_.push_back(word.c_str());
        pointers_.push_back(nullptr);
    }
    int argc() const { return static_cast<int>(words_.size()); }
    const char* const* argv() const { return pointers_.data(); }
    const std::vector<std::string>& words() const { return words_; }
    // The words for a report, each in quotes.
    std::string text() const {
        std::string out;
        for (const std::string& word : words_)
            out += (out.empty() ? "'" : " '") + quoted(word) + "'";
        return out;
    }

  private:
    static constexpr size_t max_words = 64;  // more only slows the fuzzer down
    std::vector<std::string> words_;
    std::vector<const char*> pointers_;
};

[[noreturn]] inline void fail(const char* file, int line, const char* condition,
                              const std::string& detail) {
    std::fprintf(stderr, "%s:%d: invariant broken: %s\n  %s\n", file, line, condition,
                 detail.c_str());
    std::abort();
}

// An exception no parser is documented to throw.
[[noreturn]] inline void unexpected(const std::exception_ptr& thrown, const std::string& input) {
    try {
        std::rethrow_exception(thrown);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "unexpected exception %s: %s\n  input: %s\n", typeid(error).name(),
                     error.what(), input.c_str());
    } catch (...) {
        std::fprintf(stderr, "unexpected exception of a non-std type\n  input: %s\n",
                     input.c_str());
    }
    std::abort();
}

}  // namespace nsp::fuzz

// Aborts naming the condition, where it is, and `detail` (a std::string: the input, values).
#define NSP_FUZZ_CHECK(condition, detail) \
    ((condition) ? void() : ::nsp::fuzz::fail(__FILE__, __LINE__, #condition, (detail)))
