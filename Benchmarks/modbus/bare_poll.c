/*
 * bare_poll: the reference loop for scripts/bench-modbus.sh. One libmodbus TCP connection reads
 * the same holding registers back to back, for a fixed time, as fast as the device answers.
 *
 *   bare_poll PORT SECONDS ADDRESS COUNT [UNIT]
 *
 * Prints "requests N seconds S cpu C": requests answered, the time they took, and the CPU seconds
 * this process used. Exits non-zero if a request fails.
 */
#include <errno.h>
#include <modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s PORT SECONDS ADDRESS COUNT [UNIT]\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    double seconds = atof(argv[2]);
    int address = atoi(argv[3]);
    int count = atoi(argv[4]);
    int unit = argc > 5 ? atoi(argv[5]) : 1;
    if (count < 1 || count > MODBUS_MAX_READ_REGISTERS) {
        fprintf(stderr, "bare_poll: COUNT must be 1..%d\n", MODBUS_MAX_READ_REGISTERS);
        return 2;
    }
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", port);
    if (ctx == NULL || modbus_set_slave(ctx, unit) != 0 || modbus_connect(ctx) != 0) {
        fprintf(stderr, "bare_poll: connect: %s\n", modbus_strerror(errno));
        return 1;
    }
    modbus_set_response_timeout(ctx, 1, 0);
    uint16_t registers[MODBUS_MAX_READ_REGISTERS];
    unsigned long long requests = 0;
    double start = now(), end = start + seconds, t = start;
    while (t < end) {
        if (modbus_read_registers(ctx, address, count, registers) != count) {
            fprintf(stderr, "bare_poll: read: %s\n", modbus_strerror(errno));
            return 1;
        }
        requests++;
        /* One clock read per 64 requests keeps the loop itself cheap. */
        if ((requests & 63) == 0) t = now();
    }
    t = now();
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    double cpu = usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    printf("requests %llu seconds %.6f cpu %.6f\n", requests, t - start, cpu);
    modbus_close(ctx);
    modbus_free(ctx);
    return 0;
}
