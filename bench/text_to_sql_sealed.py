"""A sealed test set for text to SQL: 32 questions written for issue 15 before any prompt or example was
tuned on them, phrased the way users phrase things, and sharing no template with the worked examples
(winback/prompts/sql_examples.v1.sql) or the 45 development questions of bench/text_to_sql.py. Nothing
here may feed a rule, an example or a prompt; `python -m bench.text_to_sql --set sealed` reports on it.
Relative windows ("last 90 days") are measured from the data's own today: its latest order."""

from __future__ import annotations

TODAY = "(SELECT MAX(ordered_at) FROM orders)"
PAID = "status != 'cancelled'"
LATEST = "scored_at = (SELECT MAX(scored_at) FROM churn_scores)"

SEALED_QUESTIONS: list[tuple[str, str]] = [
    ("how many shoppers do we have in Italy", "SELECT COUNT(*) FROM customers WHERE country = 'Italy'"),
    (
        "number of bronze members who came to us through social media",
        "SELECT COUNT(*) FROM customers WHERE segment = 'bronze' AND acquisition_channel = 'social'",
    ),
    (
        "Give me the count of orders that are still on their way (shipped but not delivered).",
        "SELECT COUNT(*) FROM orders WHERE status = 'shipped'",
    ),
    (
        "total money taken through the app channel, cancelled orders excluded",
        f"SELECT SUM(total_amount) FROM orders WHERE channel = 'app' AND {PAID}",
    ),
    (
        "What was our largest single order amount ever?",
        "SELECT MAX(total_amount) FROM orders",
    ),
    (
        "list every product category with how many units of it we sold",
        "SELECT category, SUM(quantity) FROM order_items GROUP BY category",
    ),
    (
        "Which acquisition channel brought in the fewest customers?",
        "SELECT acquisition_channel FROM customers GROUP BY acquisition_channel ORDER BY COUNT(*) ASC LIMIT 1",
    ),
    (
        "In 2024, how many orders did we get?",
        "SELECT COUNT(*) FROM orders WHERE ordered_at >= '2024-01-01' AND ordered_at < '2025-01-01'",
    ),
    (
        "revenue by year for non-cancelled orders",
        f"SELECT strftime('%Y', ordered_at) AS year, SUM(total_amount) FROM orders WHERE {PAID} GROUP BY year",
    ),
    (
        "How many tickets about payments are still open or pending?",
        "SELECT COUNT(*) FROM support_tickets WHERE topic = 'payment' AND status IN ('open', 'pending')",
    ),
    (
        "average satisfaction score of resolved tickets, per topic",
        "SELECT topic, AVG(satisfaction) FROM support_tickets WHERE status = 'resolved' GROUP BY topic",
    ),
    (
        "What share of all support tickets are about sizing?",
        "SELECT AVG(CASE WHEN topic = 'sizing' THEN 1.0 ELSE 0.0 END) FROM support_tickets",
    ),
    (
        "which topic do customers contact support about most often",
        "SELECT topic FROM support_tickets GROUP BY topic ORDER BY COUNT(*) DESC LIMIT 1",
    ),
    (
        "How many 5-star reviews did the shoes category get?",
        # the same as a join of reviews and order_items, written so SQLite answers in a second, not thirty
        "SELECT COUNT(*) FROM reviews r WHERE r.rating = 5 AND (SELECT i.category FROM order_items i "
        "WHERE i.order_id = r.order_id AND i.product_id = r.product_id LIMIT 1) = 'shoes'",
    ),
    (
        "Count the customers from Spain who have left us (closed account).",
        "SELECT COUNT(*) FROM customers WHERE country = 'Spain' AND closed_at IS NOT NULL",
    ),
    (
        "how many platinum customers are currently rated critical risk",
        f"SELECT COUNT(*) FROM churn_scores s JOIN customers c ON c.customer_id = s.customer_id "
        f"WHERE s.{LATEST} AND s.risk_band = 'critical' AND c.segment = 'platinum'",
    ),
    (
        "Average churn probability for each acquisition channel, latest scoring run",
        f"SELECT c.acquisition_channel, AVG(s.probability) FROM churn_scores s JOIN customers c "
        f"ON c.customer_id = s.customer_id WHERE s.{LATEST} GROUP BY c.acquisition_channel",
    ),
    (
        "Which city has the highest number of customers overall?",
        "SELECT city FROM customers GROUP BY city ORDER BY COUNT(*) DESC LIMIT 1",
    ),
    (
        "how many orders had a discount applied",
        "SELECT COUNT(*) FROM orders WHERE discount_amount > 0",
    ),
    (
        "what is the mean basket size in items (quantity) per order",
        "SELECT SUM(quantity) * 1.0 / COUNT(DISTINCT order_id) FROM order_items",
    ),
    (
        "How many customers have placed no order at all?",
        "SELECT COUNT(*) FROM customers WHERE customer_id NOT IN (SELECT customer_id FROM orders)",
    ),
    (
        "number of customers without any order in the last 90 days",
        f"SELECT COUNT(*) FROM customers WHERE customer_id NOT IN (SELECT customer_id FROM orders "
        f"WHERE ordered_at >= datetime({TODAY}, '-90 days'))",
    ),
    (
        "How many orders were placed in the last 30 days?",
        f"SELECT COUNT(*) FROM orders WHERE ordered_at >= datetime({TODAY}, '-30 days')",
    ),
    (
        "share of delivered orders in 2025 that came after the promised date",
        "SELECT AVG(CASE WHEN delivered_at > promised_delivery_at THEN 1.0 ELSE 0.0 END) FROM orders "
        "WHERE status = 'delivered' AND ordered_at >= '2025-01-01' AND ordered_at < '2026-01-01'",
    ),
    (
        "What fraction of orders ended up returned, by sales channel?",
        "SELECT channel, AVG(CASE WHEN status = 'returned' THEN 1.0 ELSE 0.0 END) FROM orders GROUP BY channel",
    ),
    (
        "Top 3 countries by revenue from non-cancelled orders",
        f"SELECT c.country, SUM(o.total_amount) AS revenue FROM orders o JOIN customers c "
        f"ON c.customer_id = o.customer_id WHERE o.{PAID} GROUP BY c.country ORDER BY revenue DESC LIMIT 3",
    ),
    (
        "how many reviews are 3 stars or worse",
        "SELECT COUNT(*) FROM reviews WHERE rating <= 3",
    ),
    (
        "lowest rated product category on average",
        "SELECT i.category FROM reviews r JOIN order_items i ON i.order_id = r.order_id "
        "AND i.product_id = r.product_id GROUP BY i.category ORDER BY AVG(r.rating) ASC LIMIT 1",
    ),
    (
        "How many customers joined in the second half of 2024?",
        "SELECT COUNT(*) FROM customers WHERE signup_at >= '2024-07-01' AND signup_at < '2025-01-01'",
    ),
    (
        "total discount we gave away in 2026 on orders that weren't cancelled",
        f"SELECT SUM(discount_amount) FROM orders WHERE {PAID} AND ordered_at >= '2026-01-01' "
        "AND ordered_at < '2027-01-01'",
    ),
    (
        "how many draft offers are waiting for approval",
        "SELECT COUNT(*) FROM offers WHERE status = 'draft'",
    ),
    (
        "customers per risk band among those who opted out of marketing, latest run",
        f"SELECT s.risk_band, COUNT(*) FROM churn_scores s JOIN customers c ON c.customer_id = s.customer_id "
        f"WHERE s.{LATEST} AND c.marketing_opt_in = 0 GROUP BY s.risk_band",
    ),
]
