/* A stand-in for NVIDIA's libnvidia-ml.so (the nvml.h signatures the
 * daemon loads) with two GPUs and fixed readings, so the GPU-metrics path
 * runs end to end on machines without a GPU. GPU 1 reports no power
 * reading, as some boards do. The process named by FAKE_NVML_PID runs on
 * GPU 1 with 123456789 bytes of GPU memory. Built by tests/e2e/sysstats.rs
 * with `cc`. */
#include <stdint.h>
#include <stdlib.h>

typedef struct { unsigned int gpu; unsigned int memory; } util_t;
typedef struct { unsigned long long total, free, used; } mem_t;

static int initialised = 0;

int nvmlInit_v2(void) { initialised = 1; return 0; }
int nvmlShutdown(void) { initialised = 0; return 0; }
int nvmlDeviceGetCount_v2(unsigned int *n) { *n = 2; return initialised ? 0 : 1; }
int nvmlDeviceGetHandleByIndex_v2(unsigned int i, void **d) {
    if (!initialised || i > 1) return 2;
    *d = (void *)(uintptr_t)(0x1000 + i);
    return 0;
}
static int index_of(void *d) { return (int)((uintptr_t)d - 0x1000); }
int nvmlDeviceGetUtilizationRates(void *d, util_t *u) {
    u->gpu = 40 + 2 * index_of(d); /* 40, 42 */
    u->memory = 17;
    return 0;
}
int nvmlDeviceGetMemoryInfo(void *d, mem_t *m) {
    (void)d;
    m->total = 8ull << 30;
    m->used = 2ull << 30;
    m->free = m->total - m->used;
    return 0;
}
int nvmlDeviceGetTemperature(void *d, int sensor, unsigned int *t) {
    if (sensor != 0) return 2;
    *t = 60 + index_of(d);
    return 0;
}
int nvmlDeviceGetPowerUsage(void *d, unsigned int *mw) {
    if (index_of(d) == 1) return 3; /* NVML_ERROR_NOT_SUPPORTED */
    *mw = 150000;
    return 0;
}
int nvmlDeviceGetEnforcedPowerLimit(void *d, unsigned int *mw) {
    (void)d;
    *mw = 300000;
    return 0;
}

typedef struct {
    unsigned int pid;
    unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId;
    unsigned int computeInstanceId;
} proc_t;

int nvmlDeviceGetComputeRunningProcesses_v3(void *d, unsigned int *count, proc_t *infos) {
    const char *pid = getenv("FAKE_NVML_PID");
    if (index_of(d) != 1 || pid == NULL) {
        *count = 0;
        return 0;
    }
    if (*count < 1) {
        *count = 1;
        return 7; /* NVML_ERROR_INSUFFICIENT_SIZE */
    }
    infos[0].pid = (unsigned int)atoi(pid);
    infos[0].usedGpuMemory = 123456789ull;
    infos[0].gpuInstanceId = 0;
    infos[0].computeInstanceId = 0;
    *count = 1;
    return 0;
}
