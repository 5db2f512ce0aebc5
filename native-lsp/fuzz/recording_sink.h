// A decoder sink that keeps what it is given, for the framing tests and the fuzz target.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "../src/core/framing.h"

namespace teardown {

struct RecordingSink : FrameDecoder::Sink {
  std::string stream;
  std::string disconnect_data;
  int disconnects = 0;

  void data(const uint8_t* bytes, size_t length) override {
    stream.append(reinterpret_cast<const char*>(bytes), length);
  }
  void disconnect(const uint8_t* bytes, size_t length) override {
    disconnect_data.assign(reinterpret_cast<const char*>(bytes), length);
    ++disconnects;
  }
};

}  // namespace teardown
