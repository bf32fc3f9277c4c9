/// One document of the demo's canned knowledge base.
struct KnowledgeDocument {
    let id: String
    let title: String
    /// Lowercased words that make the document rank higher when the message contains them.
    let keywords: Set<String>
    let snippet: String
}

/// A document picked for an answer, with its simulated similarity score in [0, 1].
struct RetrievedSource {
    let document: KnowledgeDocument
    let score: Double
}

/// The canned help-center articles of a fictional online shop, which the demo retrieves and quotes.
enum KnowledgeBase {
    static let documents: [KnowledgeDocument] = [
        KnowledgeDocument(
            id: "kb-101", title: "Refund policy",
            keywords: ["refund", "refunds", "return", "returns", "money", "back", "cancel"],
            snippet: "Items can be returned within 30 days of delivery for a full refund to the original payment method."
        ),
        KnowledgeDocument(
            id: "kb-102", title: "Shipping times",
            keywords: ["shipping", "delivery", "ship", "deliver", "arrive", "when", "late", "tracking"],
            snippet: "Standard shipping takes 3 to 5 business days, and express orders placed before noon ship the same day."
        ),
        KnowledgeDocument(
            id: "kb-103", title: "Resetting your password",
            keywords: ["password", "reset", "login", "log", "sign", "account", "locked"],
            snippet: "Use the \"Forgot password\" link on the sign-in page, and the reset e-mail arrives within a few minutes."
        ),
        KnowledgeDocument(
            id: "kb-104", title: "API rate limits",
            keywords: ["api", "rate", "limit", "limits", "429", "quota", "requests", "throttle"],
            snippet: "Each API key may send 600 requests per minute, and requests over the limit receive status 429."
        ),
        KnowledgeDocument(
            id: "kb-105", title: "Data retention",
            keywords: ["data", "retention", "delete", "privacy", "gdpr", "stored", "keep"],
            snippet: "Order records are kept for 7 years for tax purposes, and chat transcripts are deleted after 90 days."
        ),
        KnowledgeDocument(
            id: "kb-106", title: "Pricing plans",
            keywords: ["price", "pricing", "plan", "plans", "cost", "upgrade", "subscription", "pro"],
            snippet: "The Pro plan costs 12 euros per month and adds priority support and free express shipping."
        ),
        KnowledgeDocument(
            id: "kb-107", title: "Support hours",
            keywords: ["support", "hours", "contact", "phone", "help", "agent", "human"],
            snippet: "Human support is available Monday to Friday from 8:00 to 18:00 CET by chat and phone."
        ),
        KnowledgeDocument(
            id: "kb-108", title: "Order changes",
            keywords: ["order", "change", "address", "modify", "edit", "wrong", "item"],
            snippet: "An order can be changed or its address corrected until it leaves the warehouse, usually within 2 hours."
        ),
    ]

    /// Ranks every document by its keyword overlap with `message` plus a random jitter, and returns the best
    /// `count`. A document scores 0.35 to 0.95, with 0.15 per matching keyword up to three and up to 0.1 of jitter.
    static func retrieve(for message: String, count: Int, jitters: [Double]) -> [RetrievedSource] {
        let words = Set(message.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init))
        let ranked = documents.enumerated().map { index, document -> RetrievedSource in
            let matches = min(document.keywords.intersection(words).count, 3)
            let score = 0.35 + 0.15 * Double(matches) + 0.1 * jitters[index]
            return RetrievedSource(document: document, score: (score * 100).rounded() / 100)
        }
        return Array(ranked.sorted { $0.score > $1.score }.prefix(count))
    }

    /// Composes an answer that restates the question and quotes the best source, and the second one when it also
    /// matches a keyword.
    static func composeAnswer(to message: String, sources: [RetrievedSource]) -> String {
        let question = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        let excerpt = question.count > 80 ? question.prefix(77) + "..." : Substring(question)
        var answer = "You asked: \"\(excerpt)\". "
        if let best = sources.first, best.score >= 0.5 {
            answer += "According to \"\(best.document.title)\": \(best.document.snippet)"
        } else {
            answer += "I found no article that matches closely, but these may help. "
            answer += sources.first.map { $0.document.snippet } ?? ""
        }
        if sources.count > 1 && sources[1].score >= 0.5 {
            answer += " See also \"\(sources[1].document.title)\": \(sources[1].document.snippet)"
        }
        return answer
    }
}
