/// Built-in prompts for a retrieval-augmented chat API: short lookups, how-to questions and long multi-part requests,
/// so request sizes and answer lengths vary the way real traffic does.
public enum CannedPrompts {
    public static let all: [String] = [
        "What is your refund policy?",
        "How do I reset my password?",
        "Which plans include single sign-on?",
        "Summarize the changes in the latest release notes.",
        "Can I export my data to CSV, and is there a limit on the number of rows?",
        "What regions is the service hosted in, and can I choose where my data is stored?",
        "Explain the difference between the Team and Enterprise plans in terms of seats, support and audit logs.",
        "My invoice shows two charges for the same month. Why would that happen and how do I get one refunded?",
        "How do I rotate an API key without downtime for the services that use it?",
        "List the steps to connect the product to a PostgreSQL database behind a private network.",
        "What does error code 429 mean in your API and how should my client back off?",
        "Is there a way to schedule reports to be emailed every Monday morning?",
        "Which browsers and mobile operating systems are supported?",
        "How long do you keep deleted projects before they are permanently removed?",
        "Write a short onboarding checklist for a new administrator who needs to set up users, roles and billing.",
        "Compare webhooks and polling for receiving order updates, and recommend one for a small shop with spiky traffic.",
        "What is the uptime commitment in the service level agreement and how are credits calculated when it is missed?",
        "Our security team asks whether data is encrypted at rest and in transit. Which algorithms and key lengths are used, who manages the keys, and can we bring our own keys?",
        "I am migrating from a spreadsheet with about 40,000 customer records, some with duplicate emails and missing phone numbers. What is the best way to import them, how are duplicates handled, and can I undo an import if the field mapping was wrong?",
        "Draft a reply to a customer who says the dashboard has been loading slowly since yesterday, apologizing, asking for their browser version and workspace ID, and explaining what we are checking on our side.",
        "Does the search support filters by date range and tag at the same time?",
        "hi",
    ]
}
