-- Q: How many customers are in each segment?
SELECT segment, COUNT(*) AS customers FROM customers GROUP BY segment ORDER BY customers DESC;

-- Q: Which 10 customers are most likely to churn according to the latest scores?
SELECT customer_id, probability, risk_band FROM churn_scores
WHERE scored_at = (SELECT MAX(scored_at) FROM churn_scores)
ORDER BY probability DESC, customer_id LIMIT 10;

-- Q: What share of delivered orders arrived late, per country?
SELECT c.country, AVG(CASE WHEN o.delivered_at > o.promised_delivery_at THEN 1.0 ELSE 0.0 END) AS late_share
FROM orders o JOIN customers c ON c.customer_id = o.customer_id
WHERE o.delivered_at IS NOT NULL AND o.promised_delivery_at IS NOT NULL
GROUP BY c.country ORDER BY late_share DESC;

-- Q: What is the average rating of reviews per product category?
SELECT i.category, AVG(r.rating) AS mean_rating, COUNT(*) AS reviews
FROM reviews r JOIN order_items i ON i.order_id = r.order_id AND i.product_id = r.product_id
GROUP BY i.category ORDER BY mean_rating;
