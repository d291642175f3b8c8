// Counting MPFR's (GMP's) memory, per thread, for leak tests.
//
// GMP lets a program replace its allocator (mp_set_memory_functions). `MPFRMemory.startCounting()`
// installs functions that call malloc/realloc/free as GMP's defaults do and keep, per thread, the net
// number of bytes allocated; a test compares it before and after a loop on one thread, unaffected by
// other threads' work. Blocks allocated before counting started are freed normally (free(3) does not
// care who called malloc).
import CMPFR

#if canImport(Glibc)
import Glibc
#endif

public enum MPFRMemory {
    /// Installs the counting allocator (idempotent; call before the values you measure exist).
    public static func startCounting() {
        installOnce
    }

    /// Net bytes MPFR and GMP allocated on the calling thread since counting started.
    public static var liveBytesOnThisThread: Int { counter.pointee }

    private static let installOnce: Void = {
        cmpfr_set_memory_functions(
            { (size: Int) -> UnsafeMutableRawPointer? in
                MPFRMemory.counter.pointee += size
                return malloc(size)
            },
            { (pointer: UnsafeMutableRawPointer?, old: Int, new: Int) -> UnsafeMutableRawPointer? in
                MPFRMemory.counter.pointee += new - old
                return realloc(pointer, new)
            },
            { (pointer: UnsafeMutableRawPointer?, size: Int) in
                MPFRMemory.counter.pointee -= size
                free(pointer)
            })
    }()

    /// The calling thread's counter, created on first use.
    nonisolated(unsafe) private static var key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, { free($0) })
        return k
    }()

    fileprivate static var counter: UnsafeMutablePointer<Int> {
        if let p = pthread_getspecific(key) { return p.assumingMemoryBound(to: Int.self) }
        let p = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        p.initialize(to: 0)
        pthread_setspecific(key, p)
        return p
    }
}
