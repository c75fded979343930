//! GPU metrics through NVIDIA's NVML, loaded at run time: the daemon does
//! not link against it, so a machine without an NVIDIA driver runs the same
//! binary and simply records no GPU metrics (no error, one debug line).
//!
//! The library is `libnvidia-ml.so.1` (the driver's), or the file named by
//! `TRACKLAB_NVML_LIB` (tests point it at a stand-in). Per GPU `i`, each
//! sample gives wandb's names, under `system/`:
//!
//! | name | what |
//! |---|---|
//! | `gpu.i.gpu` | utilisation, % (`nvmlDeviceGetUtilizationRates`) |
//! | `gpu.i.memory` | memory-controller utilisation, % |
//! | `gpu.i.memoryAllocated` | memory in use, % of total (`nvmlDeviceGetMemoryInfo`) |
//! | `gpu.i.memoryAllocatedBytes` | memory in use, bytes |
//! | `gpu.i.temp` | temperature, °C (`nvmlDeviceGetTemperature`, the GPU sensor) |
//! | `gpu.i.powerWatts` | power draw, W (`nvmlDeviceGetPowerUsage`, mW) |
//! | `gpu.i.powerPercent` | power draw, % of the enforced limit |
//!
//! A query a GPU does not support (power on some boards) leaves that name
//! out of the sample; the others stay.
//!
//! For the GPUs a run's own process tree uses (`nvmlDeviceGetComputeRunning
//! Processes`), the run also gets `gpu.process.i.*`: the device's readings
//! again, and `memoryAllocatedBytes` as the tree's own GPU memory, as wandb
//! records them.

use std::ffi::{c_int, c_uint, c_void};

use libloading::{Library, Symbol};

/// `nvmlReturn_t`: 0 is success.
type Ret = c_int;
type Device = *mut c_void;

#[repr(C)]
#[derive(Default)]
struct Utilization {
    gpu: c_uint,
    memory: c_uint,
}

#[repr(C)]
#[derive(Default)]
struct Memory {
    total: u64,
    free: u64,
    used: u64,
}

/// `NVML_TEMPERATURE_GPU`.
const TEMPERATURE_GPU: c_int = 0;

type InitFn = unsafe extern "C" fn() -> Ret;
type CountFn = unsafe extern "C" fn(*mut c_uint) -> Ret;
type HandleFn = unsafe extern "C" fn(c_uint, *mut Device) -> Ret;
type UtilFn = unsafe extern "C" fn(Device, *mut Utilization) -> Ret;
type MemFn = unsafe extern "C" fn(Device, *mut Memory) -> Ret;
type TempFn = unsafe extern "C" fn(Device, c_int, *mut c_uint) -> Ret;
type U32Fn = unsafe extern "C" fn(Device, *mut c_uint) -> Ret;
type ProcsFn = unsafe extern "C" fn(Device, *mut c_uint, *mut ProcessInfo) -> Ret;

/// `nvmlProcessInfo_t` (v2, also returned by the v3 call).
#[repr(C)]
#[derive(Default, Clone, Copy)]
struct ProcessInfo {
    pid: c_uint,
    used_gpu_memory: u64,
    gpu_instance_id: c_uint,
    compute_instance_id: c_uint,
}

/// Processes asked for per device (more is reported as none).
const MAX_PROCESSES: usize = 256;

/// A loaded, initialised NVML and the GPUs it reported.
pub struct Nvml {
    util: UtilFn,
    mem: MemFn,
    temp: TempFn,
    power: U32Fn,
    power_limit: U32Fn,
    /// Absent on old drivers: no per-process figures then.
    processes: Option<ProcsFn>,
    shutdown: InitFn,
    /// Device handles, as addresses: NVML's handles stay valid until
    /// shutdown, and NVML is thread-safe ("all NVML functions are
    /// thread-safe", nvml.h), so the sampler may use them from any thread.
    devices: Vec<usize>,
    /// Kept last: the function pointers above point into it.
    _lib: Library,
}

/// Looks up one symbol as a plain function pointer.
///
/// # Safety
/// `T` must be the symbol's C signature.
#[allow(unsafe_code)]
unsafe fn symbol<T: Copy>(lib: &Library, name: &str) -> Result<T, String> {
    // SAFETY: the caller gives the symbol's real type.
    let s: Symbol<'_, T> =
        unsafe { lib.get(name.as_bytes()) }.map_err(|e| format!("NVML has no {name}: {e}"))?;
    Ok(*s)
}

impl Nvml {
    /// Loads and initialises NVML; `Err` says why there are no GPU
    /// metrics (no driver is the usual, quiet case).
    pub fn load() -> Result<Nvml, String> {
        let names: Vec<String> = match std::env::var("TRACKLAB_NVML_LIB") {
            Ok(p) if !p.is_empty() => vec![p],
            _ => vec!["libnvidia-ml.so.1".into(), "libnvidia-ml.so".into()],
        };
        Nvml::load_from(&names)
    }

    /// Loads the first of `names` that opens.
    #[allow(unsafe_code)]
    pub fn load_from(names: &[String]) -> Result<Nvml, String> {
        let mut last = String::new();
        let lib = names
            .iter()
            .find_map(|n| {
                // SAFETY: loading runs the library's initialisers; NVML's
                // are the driver's own and have no preconditions.
                match unsafe { Library::new(n) } {
                    Ok(l) => Some(l),
                    Err(e) => {
                        last = format!("{n}: {e}");
                        None
                    }
                }
            })
            .ok_or_else(|| format!("no NVML library ({last})"))?;
        // SAFETY: each type is NVML's documented signature (nvml.h).
        unsafe {
            let init: InitFn = symbol(&lib, "nvmlInit_v2")?;
            let count: CountFn = symbol(&lib, "nvmlDeviceGetCount_v2")?;
            let handle: HandleFn = symbol(&lib, "nvmlDeviceGetHandleByIndex_v2")?;
            let nvml = |rc: Ret, what: &str| {
                if rc == 0 {
                    Ok(())
                } else {
                    Err(format!("{what} returned NVML error {rc}"))
                }
            };
            nvml(init(), "nvmlInit_v2")?;
            let shutdown: InitFn = symbol(&lib, "nvmlShutdown")?;
            let mut n: c_uint = 0;
            if let Err(e) = nvml(count(&mut n), "nvmlDeviceGetCount_v2") {
                shutdown();
                return Err(e);
            }
            let mut devices = Vec::new();
            for i in 0..n.min(64) {
                let mut d: Device = std::ptr::null_mut();
                if handle(i, &mut d) == 0 && !d.is_null() {
                    devices.push(d as usize);
                }
            }
            Ok(Nvml {
                util: symbol(&lib, "nvmlDeviceGetUtilizationRates")?,
                mem: symbol(&lib, "nvmlDeviceGetMemoryInfo")?,
                temp: symbol(&lib, "nvmlDeviceGetTemperature")?,
                power: symbol(&lib, "nvmlDeviceGetPowerUsage")?,
                power_limit: symbol(&lib, "nvmlDeviceGetEnforcedPowerLimit")?,
                processes: symbol(&lib, "nvmlDeviceGetComputeRunningProcesses_v3")
                    .or_else(|_| symbol(&lib, "nvmlDeviceGetComputeRunningProcesses_v2"))
                    .ok(),
                shutdown,
                devices,
                _lib: lib,
            })
        }
    }

    pub fn device_count(&self) -> usize {
        self.devices.len()
    }

    /// One sample of every GPU: (flat name, value) pairs.
    #[allow(unsafe_code)]
    pub fn sample(&self) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        for (i, &d) in self.devices.iter().enumerate() {
            let d = d as Device;
            let mut put = |name: &str, v: f64| out.push((format!("gpu.{i}.{name}"), v));
            // SAFETY: `d` came from nvmlDeviceGetHandleByIndex_v2 and NVML
            // is initialised until drop; every out-pointer is a live local.
            unsafe {
                let mut u = Utilization::default();
                if (self.util)(d, &mut u) == 0 {
                    put("gpu", f64::from(u.gpu));
                    put("memory", f64::from(u.memory));
                }
                let mut m = Memory::default();
                if (self.mem)(d, &mut m) == 0 && m.total > 0 {
                    put("memoryAllocated", 100.0 * m.used as f64 / m.total as f64);
                    put("memoryAllocatedBytes", m.used as f64);
                }
                let mut t: c_uint = 0;
                if (self.temp)(d, TEMPERATURE_GPU, &mut t) == 0 {
                    put("temp", f64::from(t));
                }
                let mut mw: c_uint = 0;
                if (self.power)(d, &mut mw) == 0 {
                    put("powerWatts", f64::from(mw) / 1000.0);
                    let mut limit: c_uint = 0;
                    if (self.power_limit)(d, &mut limit) == 0 && limit > 0 {
                        put("powerPercent", 100.0 * f64::from(mw) / f64::from(limit));
                    }
                }
            }
        }
        out
    }
}

impl Nvml {
    /// (GPU index, pid, GPU memory in bytes) of every compute process.
    #[allow(unsafe_code)]
    pub fn processes(&self) -> Vec<(usize, u32, u64)> {
        let Some(list) = self.processes else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, &d) in self.devices.iter().enumerate() {
            let mut buf = vec![ProcessInfo::default(); MAX_PROCESSES];
            let mut n = MAX_PROCESSES as c_uint;
            // SAFETY: `buf` has room for `n` entries, as NVML is told.
            let rc = unsafe { list(d as Device, &mut n, buf.as_mut_ptr()) };
            if rc != 0 {
                continue;
            }
            for p in &buf[..(n as usize).min(MAX_PROCESSES)] {
                out.push((i, p.pid, p.used_gpu_memory));
            }
        }
        out
    }
}

/// A run's `gpu.process.i.*` items: for each GPU a process of `tree` uses,
/// the device's readings from `sample` again and the tree's own memory.
pub fn process_items(
    sample: &[(String, f64)],
    processes: &[(usize, u32, u64)],
    tree: &std::collections::HashSet<u32>,
) -> Vec<(String, f64)> {
    let mut used: std::collections::BTreeMap<usize, u64> = Default::default();
    for (gpu, pid, bytes) in processes {
        if tree.contains(pid) {
            *used.entry(*gpu).or_default() += bytes;
        }
    }
    let mut out = Vec::new();
    for (gpu, bytes) in used {
        let prefix = format!("gpu.{gpu}.");
        for (name, v) in sample {
            if let Some(field) = name.strip_prefix(&prefix)
                && field != "memoryAllocatedBytes"
            {
                out.push((format!("gpu.process.{gpu}.{field}"), *v));
            }
        }
        out.push((
            format!("gpu.process.{gpu}.memoryAllocatedBytes"),
            bytes as f64,
        ));
    }
    out
}

impl Drop for Nvml {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        // SAFETY: initialised in `load`; nothing uses the handles after.
        unsafe {
            (self.shutdown)();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Nvml;

    #[test]
    fn process_items_follow_the_gpus_the_tree_uses() {
        let sample = vec![
            ("gpu.0.gpu".to_string(), 10.0),
            ("gpu.1.gpu".to_string(), 42.0),
            ("gpu.1.memoryAllocatedBytes".to_string(), 9.0e9),
        ];
        let procs = [(0, 7, 100), (1, 5, 1000), (1, 6, 24)];
        let tree = std::collections::HashSet::from([5u32, 6]);
        let got = super::process_items(&sample, &procs, &tree);
        assert_eq!(
            got,
            [
                ("gpu.process.1.gpu".to_string(), 42.0),
                ("gpu.process.1.memoryAllocatedBytes".to_string(), 1024.0),
            ]
        );
    }

    #[test]
    fn a_missing_library_is_an_error_not_a_crash() {
        let err = Nvml::load_from(&["/nonexistent/libnvidia-ml.so.1".into()])
            .err()
            .expect("no library there");
        assert!(err.contains("no NVML library"), "{err}");
    }
}
