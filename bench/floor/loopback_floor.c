/* The floor under the streaming bar (issue 3): the CPU it takes this machine's kernel just to
 * move the bar's chunks over loopback TCP, with no server logic at all. N connections; one
 * thread writes an SSE delta frame (~60 bytes) to each every INTERVAL ms, spread evenly;
 * another reads them all with epoll. Prints the CPU both threads used per second of wall time.
 * Build and run: cc -O2 -pthread bench/floor/loopback_floor.c -o /tmp/floor && /tmp/floor 10000 30 10
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int count, interval_ms, seconds;
static int *server_side, *client_side;
static volatile int running = 1;
static long long received, sent;
static double writer_cpu, reader_cpu;

static double now(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void *writer(void *unused) {
    const char frame[] = "id: 123\nevent: delta\ndata: {\"text\":\"xxxxxxxxxxxxxxxxxxxx\"}\n\n";
    double start = now(CLOCK_MONOTONIC), cpu = now(CLOCK_THREAD_CPUTIME_ID);
    long long slot = 0;
    /* Slot k is due at start + k * interval / count: every connection once per interval. */
    while (now(CLOCK_MONOTONIC) - start < seconds) {
        double due = start + (double)slot * interval_ms / 1000.0 / count;
        double wait = due - now(CLOCK_MONOTONIC);
        if (wait > 0.0005) usleep((useconds_t)(wait * 1e6));
        if (write(server_side[slot % count], frame, sizeof frame - 1) > 0) sent++;
        slot++;
    }
    writer_cpu = now(CLOCK_THREAD_CPUTIME_ID) - cpu;
    running = 0;
    return unused;
}

static void *reader(void *unused) {
    int poller = epoll_create1(0);
    for (int i = 0; i < count; i++) {
        struct epoll_event event = {.events = EPOLLIN, .data.fd = client_side[i]};
        epoll_ctl(poller, EPOLL_CTL_ADD, client_side[i], &event);
    }
    struct epoll_event events[512];
    char buffer[65536];
    double cpu = now(CLOCK_THREAD_CPUTIME_ID);
    while (running) {
        int ready = epoll_wait(poller, events, 512, 100);
        for (int i = 0; i < ready; i++) {
            ssize_t n = read(events[i].data.fd, buffer, sizeof buffer);
            if (n > 0) received += n;
        }
    }
    reader_cpu = now(CLOCK_THREAD_CPUTIME_ID) - cpu;
    return unused;
}

int main(int argc, char **argv) {
    count = argc > 1 ? atoi(argv[1]) : 10000;
    interval_ms = argc > 2 ? atoi(argv[2]) : 30;
    seconds = argc > 3 ? atoi(argv[3]) : 10;
    struct rlimit limit = {count * 2 + 64, count * 2 + 64};
    setrlimit(RLIMIT_NOFILE, &limit);
    server_side = calloc(count, sizeof(int));
    client_side = calloc(count, sizeof(int));
    int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof address;
    bind(listener, (struct sockaddr *)&address, sizeof address);
    getsockname(listener, (struct sockaddr *)&address, &length);
    listen(listener, 4096);
    for (int i = 0; i < count; i++) {
        client_side[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(client_side[i], (struct sockaddr *)&address, sizeof address) != 0) { perror("connect"); return 1; }
        server_side[i] = accept(listener, NULL, NULL);
        setsockopt(server_side[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    pthread_t write_thread, read_thread;
    pthread_create(&read_thread, NULL, reader, NULL);
    pthread_create(&write_thread, NULL, writer, NULL);
    pthread_join(write_thread, NULL);
    pthread_join(read_thread, NULL);
    printf("%d connections, a frame each every %d ms for %d s: %lld frames written (%.0f/s), %lld bytes read\n",
           count, interval_ms, seconds, sent, sent / (double)seconds, received);
    printf("CPU: writer %.2f cores, reader %.2f cores, together %.2f of this machine's %ld cores\n",
           writer_cpu / seconds, reader_cpu / seconds, (writer_cpu + reader_cpu) / seconds, sysconf(_SC_NPROCESSORS_ONLN));
    printf("per frame: %.2f us written + %.2f us read\n", writer_cpu / sent * 1e6, reader_cpu / sent * 1e6);
    return 0;
}
