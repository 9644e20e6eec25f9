extension Message {
    /// What ``Command`` and ``Text`` read of a message: its `text`, or else the `caption`
    /// of its photo, video, document or other media, with the entities Telegram marked in
    /// it. `nil` for a message with neither (a sticker, a location).
    var textOrCaption: (text: String, entities: [MessageEntity])? {
        if let text { return (text, entities ?? []) }
        if let caption { return (caption, captionEntities ?? []) }
        return nil
    }
}
