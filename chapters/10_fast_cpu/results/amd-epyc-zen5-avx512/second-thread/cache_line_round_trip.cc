// cache_line_round_trip.cc — how long one cache line takes to go to the other core and back.
//
// Two threads, pinned to CPUs 0 and 1, hand one atomic counter back and forth
// 200,000 times: each store makes the line the writer's, so the other core's
// next load has to fetch it from this core. The time per round trip is two
// such transfers. A measurement for results/, not part of the course's build.
#include <atomic>
#include <thread>
#include <chrono>
#include <cstdio>
#include <pthread.h>
std::atomic<int> flag{0};
int main(){
  const int N=200000;
  std::thread t([&]{ cpu_set_t s; CPU_ZERO(&s); CPU_SET(1,&s); pthread_setaffinity_np(pthread_self(),sizeof s,&s);
    for(int i=0;i<N;i++){ while(flag.load(std::memory_order_acquire)!=2*i+1); flag.store(2*i+2,std::memory_order_release);} });
  cpu_set_t s; CPU_ZERO(&s); CPU_SET(0,&s); pthread_setaffinity_np(pthread_self(),sizeof s,&s);
  auto a=std::chrono::steady_clock::now();
  for(int i=0;i<N;i++){ flag.store(2*i+1,std::memory_order_release); while(flag.load(std::memory_order_acquire)!=2*i+2); }
  auto b=std::chrono::steady_clock::now(); t.join();
  printf("round trip %.1f ns\n", std::chrono::duration<double,std::nano>(b-a).count()/N);
}
