import Testing

@testable import WharfCoAP

@Test func firstObserverOfATopicSubscribes() {
    var registry = ObserverRegistry<Int, String>(limit: 10)
    #expect(registry.add(1, topic: "a") == .added(firstForTopic: true))
    #expect(registry.add(2, topic: "a") == .added(firstForTopic: false))
    #expect(registry.observers(of: "a") == [1, 2])
    #expect(registry.count == 2)
}

@Test func limitRefusesNewObserversButNotRenewals() {
    var registry = ObserverRegistry<Int, String>(limit: 1)
    #expect(registry.add(1, topic: "a") == .added(firstForTopic: true))
    #expect(registry.add(2, topic: "a") == .limitReached)
    #expect(registry.add(1, topic: "a") == .renewed(firstForTopic: false, previousTopicEmptied: nil))
    #expect(registry.add(1, topic: "b") == .renewed(firstForTopic: true, previousTopicEmptied: "a"))
    #expect(registry.observers(of: "a").isEmpty)
    #expect(registry.topic(of: 1) == "b")
}

@Test func removingTheLastObserverEmptiesTheTopic() throws {
    var registry = ObserverRegistry<Int, String>(limit: 10)
    _ = registry.add(1, topic: "a")
    _ = registry.add(2, topic: "a")
    let removedFirst = registry.remove(1)
    let first = try #require(removedFirst)
    #expect(first.topic == "a" && !first.topicEmptied)
    let removedSecond = registry.remove(2)
    let second = try #require(removedSecond)
    #expect(second.topicEmptied)
    let again = registry.remove(2)
    #expect(again == nil)
    #expect(registry.topics.isEmpty)
}

@Test func removeAllOfASession() {
    var registry = ObserverRegistry<Int, String>(limit: 10)
    _ = registry.add(1, topic: "a")
    _ = registry.add(11, topic: "b")
    _ = registry.add(2, topic: "b")
    let removed = registry.removeAll { $0 > 5 }
    #expect(removed.map(\.key) == [11])
    #expect(removed.first?.topicEmptied == false)
    #expect(registry.count == 2)
}

@Test func zeroLimitRefusesEveryone() {
    var registry = ObserverRegistry<Int, String>(limit: 0)
    #expect(registry.add(1, topic: "a") == .limitReached)
}

@Test func pollScheduleDueAndRescheduled() {
    var schedule = PollSchedule(intervals: [.seconds(1), .seconds(5)], now: 100)
    #expect(schedule.due(now: 100) == [0, 1])
    #expect(schedule.due(now: 101).isEmpty)
    #expect(schedule.nextDelay(now: 100) == 1_000_000_000)
    #expect(schedule.due(now: 1_000_000_100) == [0])
    schedule.pause(1)
    #expect(schedule.due(now: 10_000_000_000) == [0])
    schedule.retry(1, now: 10_000_000_000)
    #expect(schedule.due(now: 15_000_000_000) == [0, 1])
}

@Test func pollScheduleWithoutDevices() {
    let schedule = PollSchedule(intervals: [], now: 0)
    #expect(schedule.nextDelay(now: 0) == nil)
}

@Test func largeNotificationsStartWithTheFirstBlock() {
    #expect(NotificationBlock(payloadSize: 100, maxPDUSize: 1152) == nil)
    #expect(NotificationBlock(payloadSize: 1088, maxPDUSize: 1152) == nil)
    let block = NotificationBlock(payloadSize: 5000, maxPDUSize: 1152)
    #expect(block?.size == 1024)
    #expect(block?.optionValue == 0x0E)
    #expect(NotificationBlock(payloadSize: 5000, maxPDUSize: 600)?.size == 512)
}
