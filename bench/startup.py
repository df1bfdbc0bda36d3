"""Measures the time from spawning `kaiwa serve` to its first successful GET /ping."""
import http.client, os, statistics, subprocess, sys, time

binary, work, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
timings = []
for run in range(runs):
    port = 18100 + run
    env = dict(os.environ, KAIWA_SQLITE_PATH=f"{work}/start-{run}.sqlite", KAIWA_LOG_LEVEL="warning")
    start = time.perf_counter()
    process = subprocess.Popen([binary, "serve", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                connection.request("GET", "/ping")
                if connection.getresponse().status == 200:
                    timings.append((time.perf_counter() - start) * 1000)
                    break
            except OSError:
                time.sleep(0.0005)
    finally:
        process.terminate()
        process.wait()
print(f"best {min(timings):.1f} ms, median {statistics.median(timings):.1f} ms, worst {max(timings):.1f} ms")
