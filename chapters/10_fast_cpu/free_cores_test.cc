// chapters/10_fast_cpu/free_cores_test.cc — counting the cores other processes keep busy.
//
// The arithmetic on made-up readings (threads_for), then the readings
// themselves: this process's CPU time shows up as ours, a child process's as
// the others'. The child spins for a fixed amount of CPU time, not of wall
// time, so the test means the same on an idle machine and on a busy one.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chapters/10_fast_cpu/free_cores.h"

namespace gpt {
namespace {

// Readings one second apart on `cpus` CPUs: the machine busy for all_busy
// CPU-seconds, this process for ours.
std::pair<CpuTimes, CpuTimes> second(int cpus, double all_busy, double ours) {
  CpuTimes before, after;
  before.cpus = after.cpus = cpus;
  before.known = after.known = true;
  after.wall = 1.0;
  after.all_busy = all_busy;
  after.ours = ours;
  return {before, after};
}

TEST(ThreadsFor, AnIdleMachineGivesEveryThread) {
  const auto [before, after] = second(2, 2.0, 2.0);  // all of it ours
  EXPECT_EQ(threads_for(before, after, 2), 2);
}

TEST(ThreadsFor, AProcessBesideUsTakesACore) {
  // Three runnable threads on two cores: the other process gets about 2/3 of one.
  const auto [before, after] = second(2, 2.0, 1.33);
  EXPECT_EQ(threads_for(before, after, 2), 1);
}

TEST(ThreadsFor, ALittleBackgroundWorkTakesNothing) {
  const auto [before, after] = second(2, 2.0, 1.7);  // others: 0.3 of a core
  EXPECT_EQ(threads_for(before, after, 2), 2);
}

TEST(ThreadsFor, AtLeastOneAndAtMostTheMaximum) {
  const auto [busy_before, busy_after] = second(2, 2.0, 0.0);  // others use both cores
  EXPECT_EQ(threads_for(busy_before, busy_after, 2), 1);
  const auto [idle_before, idle_after] = second(16, 4.0, 4.0);
  EXPECT_EQ(threads_for(idle_before, idle_after, 4), 4);
}

TEST(ThreadsFor, UnknownReadingsAssumeAnIdleMachine) {
  auto [before, after] = second(2, 2.0, 0.0);
  after.known = false;
  EXPECT_EQ(threads_for(before, after, 2), 2);
}

// A made-up machine for FreeCores: 2 CPUs, a clock the test moves, and the
// CPU time others and we have used so far.
struct FakeMachine {
  double clock = 0, others = 0, ours = 0;
  CpuTimes reading() const {
    CpuTimes t;
    t.cpus = 2, t.known = true, t.wall = clock, t.all_busy = others + ours, t.ours = ours;
    return t;
  }
  // `seconds` pass with the others keeping `other_cores` busy, we 2 - other_cores.
  void run(double seconds, double other_cores) {
    clock += seconds, others += seconds * other_cores, ours += seconds * (2 - other_cores);
  }
};

TEST(FreeCores, FollowsTheOthersAndKeepsItsAnswerBetweenReadings) {
  FakeMachine machine;
  FreeCores cores([&] { return machine.reading(); }, [&] { return machine.clock; });
  EXPECT_EQ(cores.threads(2), 2) << "the first call has nothing to compare with: all threads";
  machine.run(0.1, 1.0);  // a process starts beside us...
  EXPECT_EQ(cores.threads(2), 2) << "...but 0.1 s is too soon to look again";
  machine.run(0.2, 1.0);
  EXPECT_EQ(cores.threads(2), 1) << "0.3 s with one core taken";
  EXPECT_EQ(cores.threads(1), 1);
  machine.run(0.3, 0.0);  // it ends
  EXPECT_EQ(cores.threads(2), 2);
  EXPECT_EQ(cores.threads(1), 1) << "never more than the maximum asked for";
}

// Spins until this process (or the child it runs in) has used `seconds` of CPU.
void burn_cpu(double seconds) {
  timespec t{};
  volatile double sink = 0;
  do {
    for (int i = 0; i < 100000; ++i) sink = sink + 1.0;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  } while (double(t.tv_sec) + 1e-9 * double(t.tv_nsec) < seconds);
}

// The kernel counts CPU time in clock ticks (1/100 s on most Linux machines),
// per CPU: a reading may be off by a tick per CPU either way.
double slack(const CpuTimes& t) { return 2.0 * t.cpus / double(sysconf(_SC_CLK_TCK)); }

TEST(ReadCpuTimes, OurSpinningIsOurs) {
  const CpuTimes before = read_cpu_times();
  ASSERT_TRUE(before.known) << "/proc/stat could not be read";
  ASSERT_GE(before.cpus, 1);
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  burn_cpu(double(t.tv_sec) + 1e-9 * double(t.tv_nsec) + 0.3);
  const CpuTimes after = read_cpu_times();
  const double ours = after.ours - before.ours, all = after.all_busy - before.all_busy;
  EXPECT_GE(ours, 0.29);
  EXPECT_GE(all, ours - slack(after)) << "the machine was busy for less than this process alone";
}

TEST(ReadCpuTimes, AnotherProcessIsTheOthers) {
  const CpuTimes before = read_cpu_times();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    burn_cpu(0.3);  // a fresh process: its CPU time starts at 0
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  const CpuTimes after = read_cpu_times();
  const double others = (after.all_busy - before.all_busy) - (after.ours - before.ours);
  std::cout << "[ others   ] " << others << " CPU-seconds while the child used 0.3" << std::endl;
  EXPECT_GE(others, 0.3 - slack(after));
}

}  // namespace
}  // namespace gpt
