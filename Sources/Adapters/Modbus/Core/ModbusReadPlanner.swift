/// One read request: a range of one table and the points it serves.
public struct ModbusReadRequest: Sendable, Hashable {
    /// The table read.
    public var table: ModbusTable
    /// First address.
    public var address: Int
    /// Number of registers or bits.
    public var count: Int
    /// Indices (into the device's `points`) of the points the request serves.
    public var points: [Int]

    /// Creates a request.
    public init(table: ModbusTable, address: Int, count: Int, points: [Int]) {
        self.table = table
        self.address = address
        self.count = count
        self.points = points
    }
}

/// Merges points into as few read requests as possible. Pure.
///
/// Points of one table are taken in address order; a point joins the current request when the
/// unused space before it is at most `maxGap` and the request stays within the protocol's limit
/// (125 registers, 2000 bits). For intervals on a line this greedy choice is optimal.
public enum ModbusReadPlanner {
    /// The requests reading `indices` of `points` (all of them when `nil`).
    public static func plan(_ points: [ModbusPointConfig], indices: [Int]? = nil, maxGap: Int) -> [ModbusReadRequest] {
        let chosen = indices ?? Array(points.indices)
        var requests: [ModbusReadRequest] = []
        for table in ModbusTable.allCases {
            let sorted = chosen.filter { points[$0].table == table }.sorted {
                (points[$0].address, points[$0].width, $0) < (points[$1].address, points[$1].width, $1)
            }
            var current: ModbusReadRequest?
            for index in sorted {
                let point = points[index]
                let end = point.address + point.width
                if var request = current {
                    let requestEnd = request.address + request.count
                    let gap = point.address - requestEnd
                    let newCount = max(requestEnd, end) - request.address
                    if gap <= maxGap && newCount <= table.maxReadCount {
                        request.count = newCount
                        request.points.append(index)
                        current = request
                        continue
                    }
                    requests.append(request)
                }
                current = ModbusReadRequest(table: table, address: point.address, count: point.width, points: [index])
            }
            if let current { requests.append(current) }
        }
        return requests
    }

    /// The device's points grouped by poll interval (shortest first), each group with its requests.
    public static func groups(for device: ModbusDeviceConfig) -> [ModbusPollGroup] {
        var byInterval: [Duration: [Int]] = [:]
        for (index, point) in device.points.enumerated() {
            byInterval[device.interval(of: point), default: []].append(index)
        }
        return byInterval.keys.sorted().map { interval in
            ModbusPollGroup(
                interval: interval,
                requests: plan(device.points, indices: byInterval[interval], maxGap: device.maxGap))
        }
    }
}

/// The points of a device that share one poll interval.
public struct ModbusPollGroup: Sendable, Hashable {
    /// How often the group is read.
    public var interval: Duration
    /// The read requests of one poll.
    public var requests: [ModbusReadRequest]
}
