import Foundation
import Logging
import Shimmy

/// What every connection shares: the models, the settings, the generation slots, the open connections and the
/// logger.
final class ServerContext: Sendable {
    let catalog: any ModelCatalog
    let configuration: ServerConfiguration
    let limiter: GenerationLimiter
    let connections = ConnectionTracker()
    let logger: Logger
    let startedAt: Date

    init(catalog: any ModelCatalog, configuration: ServerConfiguration, logger: Logger) {
        self.catalog = catalog
        self.configuration = configuration
        self.limiter = GenerationLimiter(parallel: configuration.parallel, maxQueued: configuration.maxQueued)
        self.logger = logger
        self.startedAt = Date()
    }
}
