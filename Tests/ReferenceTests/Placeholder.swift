import Testing
@testable import Reference
@Test func debugVJP() throws {
    let r = SoftmaxReference(maximumPrecision: 4096)
    for x in [[1.0, 2, 3, 4], [3.0, 3, 3, 3], [5e-324, -5e-324, 0], [0, -40, -40.0], [-800.0, -801, -802], [709.0, 710, 700]] {
        let v = x.indices.map { Double($0 % 3) - 1 }
        do { print(x, try r.vectorJacobianProduct(x, v)) } catch { print(x, error) }
    }
}
