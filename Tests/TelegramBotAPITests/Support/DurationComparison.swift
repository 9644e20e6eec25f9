import TelegramBotAPI

extension Duration {
    /// Equal to within a microsecond: rates are computed in floating point.
    func isAbout(_ other: Duration) -> Bool {
        abs((self - other).seconds) < 1e-6
    }
}
