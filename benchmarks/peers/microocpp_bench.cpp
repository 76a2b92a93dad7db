// Peer figures for benchmarks/run.py --peers: MicroOcpp's own composite-schedule code,
// called in a loop on the workloads of ../shared/reference/benchmarks.md (W1, W2, W3).
//
// This file is ocpp-schedule's own harness: it links against an unmodified MicroOcpp
// checkout (see build_microocpp.sh) and only calls its public C++ API:
// SmartChargingService::setChargingProfile and ::getCompositeSchedule.
// It prints one JSON object: workload -> {"MicroOcpp": seconds per call (best batch)},
// and, on stderr, the median, the best and the number of output periods of each workload
// (MO_BENCH_DEBUG=1 in the environment also prints the first periods of each answer).
// MicroOcpp applies TxDefaultProfiles only during a transaction: one runs throughout.
#include <MicroOcpp.h>
#include <MicroOcpp/Core/Connection.h>
#include <MicroOcpp/Core/Context.h>
#include <MicroOcpp/Model/Model.h>
#include <MicroOcpp/Model/SmartCharging/SmartChargingService.h>
#include <MicroOcpp/Model/Transactions/Transaction.h>

#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using namespace MicroOcpp;

static unsigned long fake_ms = 10000;
static unsigned long fake_timer() { return fake_ms; }

static void spin() {
    for (int i = 0; i < 30; i++) {
        fake_ms += 100;
        mocpp_loop();
    }
}

static Timestamp at(const char* iso) {
    Timestamp t;
    t.setTime(iso);
    return t;
}

struct Period { int start; float limit; };

static std::unique_ptr<ChargingProfile> profile(int id, int level, ChargingProfilePurposeType purpose,
                                               ChargingProfileKindType kind, RecurrencyKindType rec,
                                               const char* start, int duration, ChargingRateUnitType unit,
                                               const std::vector<Period>& periods, int tx = -1) {
    std::unique_ptr<ChargingProfile> p(new ChargingProfile());
    p->chargingProfileId = id;
    p->transactionId = tx;
    p->stackLevel = level;
    p->chargingProfilePurpose = purpose;
    p->chargingProfileKind = kind;
    p->recurrencyKind = rec;
    p->validFrom = MIN_TIME;  // as MicroOcpp's JSON reader sets an absent validFrom/validTo
    p->validTo = MIN_TIME;
    auto& s = p->chargingSchedule;
    s.chargingProfileKind = kind;
    s.recurrencyKind = rec;
    s.startSchedule = start ? at(start) : MIN_TIME;
    s.duration = duration;
    s.chargingRateUnit = unit;
    for (const auto& q : periods) {
        s.chargingSchedulePeriod.emplace_back();
        s.chargingSchedulePeriod.back().startPeriod = q.start;
        s.chargingSchedulePeriod.back().limit = q.limit;
        s.chargingSchedulePeriod.back().numberPhases = 3;
    }
    return p;
}

struct Figure { double best; double median; size_t periods; };

// Times getCompositeSchedule(connector 1, duration, A): batches of `loops` calls, `batches` times.
static Figure measure(SmartChargingService& sc, int duration, int loops, int batches) {
    std::vector<double> per_call;
    size_t periods = 0;
    for (int b = 0; b < batches; b++) {
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < loops; i++) {
            auto s = sc.getCompositeSchedule(1, duration, ChargingRateUnitType_Optional::Amp);
            periods = s->chargingSchedulePeriod.size();
        }
        auto t1 = std::chrono::steady_clock::now();
        per_call.push_back(std::chrono::duration<double>(t1 - t0).count() / loops);
    }
    if (std::getenv("MO_BENCH_DEBUG")) {
        auto s = sc.getCompositeSchedule(1, duration, ChargingRateUnitType_Optional::Amp);
        for (size_t i = 0; i < s->chargingSchedulePeriod.size() && i < 5; i++)
            std::fprintf(stderr, "  %d %.1f %d\n", s->chargingSchedulePeriod[i].startPeriod,
                         s->chargingSchedulePeriod[i].limit, s->chargingSchedulePeriod[i].numberPhases);
    }
    std::sort(per_call.begin(), per_call.end());
    return {per_call.front(), per_call[per_call.size() / 2], periods};
}

static int rejected = 0;
static void install(SmartChargingService& sc, unsigned int connector, std::unique_ptr<ChargingProfile> p) {
    if (!sc.setChargingProfile(connector, std::move(p))) rejected++;
}

static void clear_all(SmartChargingService& sc) {
    sc.clearChargingProfile([](int, int, ChargingProfilePurposeType, int) { return true; });
}

int main(int argc, char** argv) {
    int batches = argc > 1 ? std::atoi(argv[1]) : 15;
    LoopbackConnection loopback;
    mocpp_initialize(loopback, ChargerCredentials("bench"), nullptr);
    mocpp_set_timer(fake_timer);
    auto& model = getOcppContext()->getModel();
    setSmartChargingOutput([](float, float, int) {});
    auto& sc = *model.getSmartChargingService();
    std::vector<std::pair<std::string, Figure>> out;
    const auto A = ChargingRateUnitType::Amp;
    const auto TXD = ChargingProfilePurposeType::TxDefaultProfile;
    const auto ABS = ChargingProfileKindType::Absolute;
    const auto NONE = RecurrencyKindType::NOT_SET;

    // MicroOcpp applies TxDefaultProfiles only during a transaction, so one transaction runs
    // through every workload: id 1 on connector 1, started 2024-01-01T08:00:00Z (W1's).
    model.getClock().setTime("2024-01-01T08:00:00.000Z");
    beginTransaction_authorized("bench");
    spin();
    if (auto& tx = getTransaction()) {
        tx->setStartTimestamp(at("2024-01-01T08:00:00.000Z"));
        tx->setTransactionId(1);
        tx->getStartSync().confirm();
    }
    spin();
    model.getClock().setTime("2024-01-01T00:00:00.000Z");

    // W1: ChargePointMax in W, a daily recurring TxDefault in A, a relative TxProfile.
    {
        std::vector<Period> cpmax, txd{{0, 32}, {21600, 16}, {43200, 24}, {64800, 10}}, tx;
        for (int i = 0; i < 24; i++) cpmax.push_back({i * 3600, i % 2 == 0 ? 11000.f : 7000.f});
        for (int i = 0; i < 10; i++) tx.push_back({i * 1800, 6.f + 2 * i});
        install(sc, 0, profile(1, 0, ChargingProfilePurposeType::ChargePointMaxProfile, ABS, NONE,
                                         "2024-01-01T00:00:00.000Z", -1, ChargingRateUnitType::Watt, cpmax));
        install(sc, 0, profile(2, 0, TXD, ChargingProfileKindType::Recurring, RecurrencyKindType::Daily,
                                         "2024-01-01T00:00:00.000Z", -1, A, txd));
        install(sc, 1, profile(3, 1, ChargingProfilePurposeType::TxProfile, ChargingProfileKindType::Relative,
                                         NONE, nullptr, -1, A, tx, 1));
        out.push_back({"W1", measure(sc, 86400, 2000, batches)});
    }
    clear_all(sc);

    // W2: 20 stacked TxDefaultProfiles of 96 periods, staggered by an hour; a week.
    for (int k = 0; k < 20; k++) {
        std::vector<Period> ps;
        for (int i = 0; i < 96; i++) ps.push_back({i * 900, float((k * 7 + i * 13) % 32 + 6)});
        Timestamp start = at("2024-01-01T00:00:00.000Z") + k * 3600;
        char iso[32];
        start.toJsonString(iso, sizeof iso);
        install(sc, 1, profile(k + 1, k, TXD, ABS, NONE, iso, 172800, A, ps));
    }
    out.push_back({"W2", measure(sc, 604800, 200, batches)});
    clear_all(sc);

    // W3: N profiles of M periods of 60 s, all starting at the window start.
    for (int n : {1, 10, 100}) {
        for (int m : {10, 100, 1000}) {
            for (int k = 0; k < n; k++) {
                std::vector<Period> ps;
                for (int i = 0; i < m; i++) ps.push_back({i * 60, float((k + i) % 40 + 6)});
                install(sc, 1, profile(k + 1, k, TXD, ABS, NONE, "2024-01-01T00:00:00.000Z", -1, A, ps));
            }
            int loops = m >= 1000 ? 20 : (m >= 100 ? 200 : 2000);
            out.push_back({"W3 N=" + std::to_string(n) + ", M=" + std::to_string(m), measure(sc, m * 60, loops, batches)});
            clear_all(sc);
        }
    }
    endTransaction();
    mocpp_deinitialize();
    if (rejected) std::fprintf(stderr, "%d profiles were rejected\n", rejected);

    std::printf("{");
    for (size_t i = 0; i < out.size(); i++) {
        std::printf("%s\"%s\": {\"MicroOcpp\": %.9g}", i ? ", " : "", out[i].first.c_str(), out[i].second.best);
        std::fprintf(stderr, "%-18s best %10.2f us  median %10.2f us  %zu periods\n", out[i].first.c_str(),
                     out[i].second.best * 1e6, out[i].second.median * 1e6, out[i].second.periods);
    }
    std::printf("}\n");
    return 0;
}
