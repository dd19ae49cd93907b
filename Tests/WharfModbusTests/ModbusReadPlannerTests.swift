import PropertyBased
import Testing
import WharfModbus

@Suite struct ModbusReadPlannerTests {
    private func points(_ specs: [(ModbusTable, Int, ModbusValueType)]) -> [ModbusPointConfig] {
        specs.enumerated().map { index, spec in
            var point = ModbusPointConfig(name: "p\(index)", table: spec.0, address: spec.1, type: spec.2)
            if spec.2 == .string { point.length = 10 }
            return point
        }
    }

    @Test func mergesContiguousPoints() {
        let plan = ModbusReadPlanner.plan(
            points([(.holding, 0, .float32), (.holding, 2, .uint16), (.holding, 3, .int64)]), maxGap: 0)
        #expect(plan == [ModbusReadRequest(table: .holding, address: 0, count: 7, points: [0, 1, 2])])
    }

    @Test func mergesAcrossGapsUpToMaxGap() {
        let map = points([(.input, 0, .uint16), (.input, 9, .uint16), (.input, 19, .uint16)])
        #expect(ModbusReadPlanner.plan(map, maxGap: 8).count == 2)
        #expect(ModbusReadPlanner.plan(map, maxGap: 9).count == 1)
        #expect(ModbusReadPlanner.plan(map, maxGap: 7).count == 3)
    }

    @Test func keepsTablesApart() {
        let plan = ModbusReadPlanner.plan(
            points([
                (.holding, 0, .uint16), (.input, 0, .uint16), (.coil, 0, .bool), (.discrete, 0, .bool),
                (.coil, 1, .bool),
            ]),
            maxGap: 8)
        #expect(plan.map(\.table) == [.coil, .discrete, .holding, .input])
        #expect(plan[0] == ModbusReadRequest(table: .coil, address: 0, count: 2, points: [2, 4]))
    }

    @Test func respectsTheRegisterLimit() {
        let map = (0..<130).map { ModbusPointConfig(name: "r\($0)", table: .holding, address: $0, type: .uint16) }
        let plan = ModbusReadPlanner.plan(map, maxGap: 8)
        #expect(plan.map(\.count) == [125, 5])
        #expect(plan[1].address == 125)
    }

    @Test func respectsTheCoilLimit() {
        let map = (0..<2500).map { ModbusPointConfig(name: "c\($0)", table: .coil, address: $0, type: .bool) }
        #expect(ModbusReadPlanner.plan(map, maxGap: 8).map(\.count) == [2000, 500])
    }

    @Test func doesNotSplitAPointAcrossTheLimit() {
        let plan = ModbusReadPlanner.plan(points([(.holding, 0, .uint16), (.holding, 124, .float32)]), maxGap: 200)
        #expect(plan.map(\.count) == [1, 2])
    }

    @Test func sharesARegisterBetweenBitPoints() {
        var a = ModbusPointConfig(name: "a", table: .holding, address: 5, type: .bool)
        a.bit = 0
        var b = a
        b.name = "b"
        b.bit = 7
        let plan = ModbusReadPlanner.plan([a, b], maxGap: 0)
        #expect(plan == [ModbusReadRequest(table: .holding, address: 5, count: 1, points: [0, 1])])
    }

    @Test func aSparseMapNeedsTheExpectedNumberOfRequests() {
        // Three clusters of holding registers far apart, one input cluster, scattered coils.
        let map = points([
            (.holding, 0, .uint16), (.holding, 1, .float32), (.holding, 6, .uint16),
            (.holding, 100, .int32), (.holding, 104, .int32),
            (.holding, 1000, .string),
            (.input, 500, .uint16), (.input, 507, .uint16),
            (.coil, 0, .bool), (.coil, 5, .bool), (.coil, 40, .bool),
        ])
        let plan = ModbusReadPlanner.plan(map, maxGap: 8)
        #expect(plan.count == 6)
        #expect(plan.filter { $0.table == .holding }.map(\.count) == [7, 6, 10])
    }

    @Test func groupsPointsByPollInterval() {
        var device = ModbusDeviceConfig(name: "d", transport: .tcp(host: "h", port: 502))
        device.points = points([(.holding, 0, .uint16), (.holding, 1, .uint16), (.holding, 2, .uint16)])
        device.points[1].pollInterval = .seconds(5)
        let groups = ModbusReadPlanner.groups(for: device)
        #expect(groups.map(\.interval) == [.seconds(1), .seconds(5)])
        #expect(groups[0].requests == [ModbusReadRequest(table: .holding, address: 0, count: 3, points: [0, 2])])
        #expect(groups[1].requests == [ModbusReadRequest(table: .holding, address: 1, count: 1, points: [1])])
    }

    @Test func everyPointIsCoveredOnceWithinLimits() async {
        let spec = zip(Gen.int(in: 0...3), Gen.int(in: 0...600), Gen.int(in: 0...3))
        await propertyCheck(count: 200, input: spec.array(of: 1...60), Gen.int(in: 0...20)) { specs, maxGap in
            let types: [ModbusValueType] = [.uint16, .float32, .float64, .bool]
            let map = specs.enumerated().map { index, spec in
                let table = ModbusTable.allCases[spec.0]
                return ModbusPointConfig(
                    name: "p\(index)", table: table, address: spec.1, type: table.isBits ? .bool : types[spec.2])
            }
            let plan = ModbusReadPlanner.plan(map, maxGap: maxGap)
            #expect(plan.flatMap(\.points).sorted() == Array(map.indices))
            for request in plan {
                #expect(request.count <= request.table.maxReadCount)
                for index in request.points {
                    #expect(map[index].table == request.table)
                    #expect(map[index].address >= request.address)
                    #expect(map[index].address + map[index].width <= request.address + request.count)
                }
            }
        }
    }
}
