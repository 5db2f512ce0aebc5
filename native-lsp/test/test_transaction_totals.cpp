// The seed's transaction-totals exchange, step by step, on a client and a server socket:
//
//   (1) client WSPSendDisconnect(total)          (2) server FD_CLOSE, recv 0 or WSAEDISCON
//                                                (3) server WSPRecvDisconnect -> client total
//                                                (4) server computes the grand total
//                                                (5) server WSPSendDisconnect(grand total)
//   (6) client FD_CLOSE                          (5') server WSPCloseSocket
//   (7) client WSPRecvDisconnect -> grand total
//   (8) client WSPCloseSocket
//
// "Step (5') must follow step (5), but has no timing relationship with steps (6), (7), or (8)":
// every placement of (5') is run, with each of the three ways step (2) can be indicated.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <tuple>
#include <vector>

#include "socket_teardown.h"
#include "winsock_errors.h"

namespace teardown {
namespace {

enum class Indication { FdClose, ZeroByteReceive, Discon };
enum class Side { Client, Server };

struct Step {
  Side side;
  td_event_kind kind;
  td_event_record event;
};

class TransactionTotals : public ::testing::TestWithParam<std::tuple<int, Indication>> {
 protected:
  bool message_oriented() const { return std::get<1>(GetParam()) == Indication::Discon; }

  SocketTeardown client_{SocketIdentity{1, 6, 1, message_oriented()}, 100};
  SocketTeardown server_{SocketIdentity{2, 6, 1, message_oriented()}, 200};
  std::vector<Step> log_;
  uint64_t clock_ = 1000;

  void record(Side side, const td_event_record& event) {
    log_.push_back(Step{side, static_cast<td_event_kind>(event.kind), event});
  }
  SocketTeardown& socket(Side side) { return side == Side::Client ? client_ : server_; }

  void send_disconnect(Side side, uint32_t data_length) {
    td_event_record event{};
    socket(side).on_send_disconnect(data_length, 0, event);
    record(side, event);
  }
  void recv_disconnect(Side side, uint32_t data_length) {
    td_event_record event{};
    socket(side).on_recv_disconnect(data_length, 0, event);
    record(side, event);
  }
  void indicate_remote_teardown(Side side, Indication how) {
    td_event_record event{};
    bool raised = false;
    switch (how) {
      case Indication::FdClose: raised = socket(side).on_fd_close(0, event); break;
      case Indication::ZeroByteReceive: raised = socket(side).on_receive(0, 0, event); break;
      case Indication::Discon:
        raised = socket(side).on_receive(-1, wsa::kDisconnected, event);
        break;
    }
    ASSERT_TRUE(raised);
    record(side, event);
  }
  void close(Side side) {
    td_event_record event{};
    socket(side).on_close(socket(side).plan_close(false), 0, true, clock_ += 10, event);
    record(side, event);
  }

  std::vector<td_event_kind> kinds_of(Side side) const {
    std::vector<td_event_kind> kinds;
    for (const Step& step : log_) {
      if (step.side == side) kinds.push_back(step.kind);
    }
    return kinds;
  }
  const td_event_record& last_of(Side side) const {
    for (auto it = log_.rbegin(); it != log_.rend(); ++it) {
      if (it->side == side) return it->event;
    }
    throw std::logic_error("no event");
  }
};

TEST_P(TransactionTotals, StepsOneToEightRecordAValidTimeline) {
  const int server_close_after = std::get<0>(GetParam());  // 5 = right after (5), 6, 7 or 8
  const Indication indication = std::get<1>(GetParam());
  const td_event_kind indication_kind = indication == Indication::FdClose ? TD_KIND_FD_CLOSE
                                        : indication == Indication::Discon ? TD_KIND_DISCON
                                                                           : TD_KIND_EOF;
  const uint32_t client_total = 8;  // bytes of disconnect data in each direction
  const uint32_t grand_total = 8;

  send_disconnect(Side::Client, client_total);          // (1)
  EXPECT_EQ(client_.first_shutdown(), TD_INITIATOR_LOCAL);
  indicate_remote_teardown(Side::Server, indication);   // (2)
  EXPECT_EQ(server_.first_shutdown(), TD_INITIATOR_REMOTE);
  recv_disconnect(Side::Server, client_total);          // (3)
  /* (4) the server computes its grand total: no call, no event */
  send_disconnect(Side::Server, grand_total);           // (5)
  if (server_close_after == 5) close(Side::Server);     // (5')
  indicate_remote_teardown(Side::Client, indication);   // (6)
  if (server_close_after == 6) close(Side::Server);
  recv_disconnect(Side::Client, grand_total);           // (7)
  if (server_close_after == 7) close(Side::Server);
  close(Side::Client);                                  // (8)
  if (server_close_after == 8) close(Side::Server);

  EXPECT_EQ(kinds_of(Side::Client),
            (std::vector<td_event_kind>{TD_KIND_SEND_DISCONNECT, indication_kind,
                                        TD_KIND_RECV_DISCONNECT, TD_KIND_CLOSE}));
  EXPECT_EQ(kinds_of(Side::Server),
            (std::vector<td_event_kind>{indication_kind, TD_KIND_RECV_DISCONNECT,
                                        TD_KIND_SEND_DISCONNECT, TD_KIND_CLOSE}));

  const td_event_record& client_close = last_of(Side::Client);
  EXPECT_EQ(client_close.first_shutdown, TD_INITIATOR_LOCAL) << "the client concluded the session";
  EXPECT_EQ(client_close.ending, TD_ENDING_GRACEFUL);
  const td_event_record& server_close = last_of(Side::Server);
  EXPECT_EQ(server_close.first_shutdown, TD_INITIATOR_REMOTE);
  EXPECT_EQ(server_close.ending, TD_ENDING_GRACEFUL);

  for (const Step& step : log_) {
    if (step.kind == TD_KIND_SEND_DISCONNECT || step.kind == TD_KIND_RECV_DISCONNECT) {
      EXPECT_EQ(step.event.data_length, 8u);
      EXPECT_EQ(step.event.error, 0);
    }
  }
}

std::string placement_name(const ::testing::TestParamInfo<TransactionTotals::ParamType>& param) {
  static const char* const kIndications[] = {"FdClose", "ZeroByteReceive", "Discon"};
  return "CloseAfterStep" + std::to_string(std::get<0>(param.param)) + "_" +
         kIndications[static_cast<int>(std::get<1>(param.param))];
}

INSTANTIATE_TEST_SUITE_P(EveryPlacementOfServerClose, TransactionTotals,
                         ::testing::Combine(::testing::Values(5, 6, 7, 8),
                                            ::testing::Values(Indication::FdClose,
                                                              Indication::ZeroByteReceive,
                                                              Indication::Discon)),
                         placement_name);

}  // namespace
}  // namespace teardown
