// shim.cc - the C interface of shim.h over Google Benchmark (1.7.x).
//
// The only C++ file of the benchmarks.  A ckb_state_t* is the
// benchmark::State* itself.  ckb_run() hands Google Benchmark a display
// reporter that forwards everything to the default one (so --benchmark_format
// and --benchmark_color keep working) and records every non-aggregate run;
// no file reporter is passed, so Google Benchmark makes its own from
// --benchmark_out / --benchmark_out_format as usual.
#include "shim.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

benchmark::State *to_state(ckb_state_t *s) { return reinterpret_cast<benchmark::State *>(s); }
ckb_state_t *from_state(benchmark::State *s) { return reinterpret_cast<ckb_state_t *>(s); }

struct Record {
    std::string name; // the registered name (BenchmarkName::function_name)
    int repetition;
    double seconds_per_iter;
    int64_t iterations;
    bool error;
    std::string error_message;
};

std::vector<Record> g_records;
std::vector<ckb_result_t> g_results; // views into g_records, built after the run

// Forwards to Google Benchmark's default display reporter and keeps the runs.
class RecordingReporter : public benchmark::BenchmarkReporter {
  public:
    explicit RecordingReporter(benchmark::BenchmarkReporter *inner) : inner_(inner) {}

    bool ReportContext(const Context &context) override
    {
        return inner_->ReportContext(context);
    }

    void ReportRuns(const std::vector<Run> &runs) override
    {
        for (const Run &run : runs) {
            if (run.run_type != Run::RT_Iteration)
                continue; // mean/median/stddev/cv rows
            Record r;
            // function_name is the name given to RegisterBenchmark, without
            // the "/min_time:..", "/iterations:..", "/real_time" suffixes.
            r.name = run.run_name.function_name;
            r.repetition = run.repetition_index < 0 ? 0 : (int)run.repetition_index;
            r.iterations = (int64_t)run.iterations;
            // real_accumulated_time is in seconds whatever the time unit.
            r.seconds_per_iter =
                run.iterations > 0 ? run.real_accumulated_time / (double)run.iterations : 0.0;
            r.error = run.error_occurred;
            r.error_message = run.error_message;
            g_records.push_back(std::move(r));
        }
        inner_->ReportRuns(runs);
    }

    void Finalize() override { inner_->Finalize(); }

  private:
    benchmark::BenchmarkReporter *inner_;
};

} // namespace

extern "C" {

void ckb_register(const ckb_case_t *c)
{
    const ckb_fn fn = c->fn;
    void *const user = c->user;
    const double flops = c->flops;
    const double bytes = c->bytes;
    benchmark::internal::Benchmark *b = benchmark::RegisterBenchmark(
        c->name, // copied by Google Benchmark
        [fn, user, flops, bytes](benchmark::State &state) {
            fn(from_state(&state), user);
            if (state.error_occurred())
                return;
            if (flops > 0)
                state.counters["FLOPS"] =
                    benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
            if (bytes > 0)
                state.counters["BYTES"] =
                    benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate);
        });
    if (c->min_time > 0)
        b->MinTime(c->min_time);
    if (c->iterations > 0)
        b->Iterations((benchmark::IterationCount)c->iterations);
    b->UseRealTime();
    b->Unit(benchmark::kMillisecond);
}

bool ckb_keep_running(ckb_state_t *s) { return to_state(s)->KeepRunning(); }

void ckb_pause_timing(ckb_state_t *s) { to_state(s)->PauseTiming(); }

void ckb_resume_timing(ckb_state_t *s) { to_state(s)->ResumeTiming(); }

void ckb_skip_with_error(ckb_state_t *s, const char *message)
{
    to_state(s)->SkipWithError(message != nullptr ? message : "error");
}

void ckb_set_counter(ckb_state_t *s, const char *name, double value)
{
    to_state(s)->counters[name] = benchmark::Counter(value);
}

int ckb_run(int *argc, char **argv)
{
    try {
        benchmark::Initialize(argc, argv);
        for (int i = 1; i < *argc; i++) {
            if (std::strncmp(argv[i], "--benchmark_", 12) == 0) {
                std::fprintf(stderr, "unknown Google Benchmark flag: %s\n", argv[i]);
                return 2;
            }
        }
        RecordingReporter reporter(benchmark::CreateDefaultDisplayReporter());
        g_records.clear();
        g_results.clear();
        benchmark::RunSpecifiedBenchmarks(&reporter);
        benchmark::Shutdown();
        g_results.reserve(g_records.size());
        for (const Record &r : g_records) {
            ckb_result_t v;
            v.name = r.name.c_str();
            v.repetition = r.repetition;
            v.seconds_per_iter = r.seconds_per_iter;
            v.iterations = r.iterations;
            v.error = r.error;
            v.error_message = r.error_message.c_str();
            g_results.push_back(v);
        }
    } catch (const std::exception &e) {
        std::fprintf(stderr, "ckb_run: %s\n", e.what());
        return 1;
    }
    return 0;
}

int ckb_result_count(void) { return (int)g_results.size(); }

const ckb_result_t *ckb_result_at(int i)
{
    if (i < 0 || (size_t)i >= g_results.size())
        return nullptr;
    return &g_results[(size_t)i];
}

} // extern "C"
