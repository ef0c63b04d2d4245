-- Worked examples for text-to-SQL, written for SQLite (transpiled with sqlglot for PostgreSQL).
-- The writer shows the model the few examples closest to each question. None is a benchmark question.

-- Q: How many customers are in the platinum segment?
SELECT COUNT(*) FROM customers WHERE segment = 'platinum';

-- Q: How many customers signed up in March 2026?
SELECT COUNT(*) FROM customers WHERE signup_at >= '2026-03-01' AND signup_at < '2026-04-01';

-- Q: How many orders were placed per month in 2025?
SELECT strftime('%Y-%m', ordered_at) AS month, COUNT(*) AS orders FROM orders
WHERE ordered_at >= '2025-01-01' AND ordered_at < '2026-01-01' GROUP BY month ORDER BY month;

-- Q: How many customers signed up each year?
SELECT strftime('%Y', signup_at) AS year, COUNT(*) AS customers FROM customers GROUP BY year ORDER BY year;

-- Q: Which city in Germany has the most customers?
SELECT city FROM customers WHERE country = 'Germany' GROUP BY city ORDER BY COUNT(*) DESC LIMIT 1;

-- Q: How much has customer C-1042 paid for orders that were not cancelled?
SELECT SUM(total_amount) FROM orders WHERE customer_id = 'C-1042' AND status != 'cancelled';

-- Q: What is the average discount per order channel?
SELECT channel, AVG(discount_amount) AS mean_discount FROM orders GROUP BY channel;

-- Q: How many orders were returned per customer segment?
SELECT c.segment, COUNT(*) AS returned_orders FROM orders o JOIN customers c ON c.customer_id = o.customer_id
WHERE o.status = 'returned' GROUP BY c.segment;

-- Q: Show the 5 most recent orders with their totals.
SELECT order_id, ordered_at, total_amount FROM orders ORDER BY ordered_at DESC LIMIT 5;

-- Q: Which customers have more than 3 support tickets that are not resolved?
SELECT customer_id FROM support_tickets WHERE status != 'resolved' GROUP BY customer_id HAVING COUNT(*) > 3;

-- Q: How many support tickets came in through each channel?
SELECT channel, COUNT(*) AS tickets FROM support_tickets GROUP BY channel;

-- Q: What was the average rating of reviews written in 2025?
SELECT AVG(rating) FROM reviews WHERE created_at >= '2025-01-01' AND created_at < '2026-01-01';

-- Q: What share of reviews give 4 or 5 stars?
SELECT AVG(CASE WHEN rating >= 4 THEN 1.0 ELSE 0.0 END) AS share FROM reviews;

-- Q: How many gold customers are in each risk band in the latest scores?
SELECT s.risk_band, COUNT(*) AS customers FROM churn_scores s JOIN customers c ON c.customer_id = s.customer_id
WHERE s.scored_at = (SELECT MAX(scored_at) FROM churn_scores) AND c.segment = 'gold' GROUP BY s.risk_band;

-- Q: What is the average churn probability per country in the latest scores?
SELECT c.country, AVG(s.probability) AS mean_probability FROM churn_scores s
JOIN customers c ON c.customer_id = s.customer_id
WHERE s.scored_at = (SELECT MAX(scored_at) FROM churn_scores) GROUP BY c.country;

-- Q: How many customers have a churn probability above 0.8 in the latest scores?
SELECT COUNT(*) FROM churn_scores WHERE scored_at = (SELECT MAX(scored_at) FROM churn_scores) AND probability > 0.8;

-- Q: Which 5 customers have the highest lifetime value in the latest scores?
SELECT customer_id, lifetime_value FROM churn_scores WHERE scored_at = (SELECT MAX(scored_at) FROM churn_scores)
ORDER BY lifetime_value DESC LIMIT 5;

-- Q: Which segment has the highest average order value for orders that were not cancelled?
SELECT c.segment FROM orders o JOIN customers c ON c.customer_id = o.customer_id WHERE o.status != 'cancelled'
GROUP BY c.segment ORDER BY AVG(o.total_amount) DESC LIMIT 1;

-- Q: How many offers were redeemed?
SELECT COUNT(*) FROM offers WHERE status = 'redeemed';

-- Q: How many offers are there per offer type and status?
SELECT offer_type, status, COUNT(*) AS offers FROM offers GROUP BY offer_type, status;

-- Q: How many distinct customers have ordered since 1 October 2026?
SELECT COUNT(DISTINCT customer_id) FROM orders WHERE ordered_at >= '2026-10-01';

-- Q: What share of delivered orders arrived late, per order channel?
SELECT channel, AVG(CASE WHEN delivered_at > promised_delivery_at THEN 1.0 ELSE 0.0 END) AS late_share
FROM orders WHERE delivered_at IS NOT NULL AND promised_delivery_at IS NOT NULL GROUP BY channel;

-- Q: How many units were sold per product category in orders placed in 2026?
SELECT i.category, SUM(i.quantity) AS units FROM order_items i JOIN orders o ON o.order_id = i.order_id
WHERE o.ordered_at >= '2026-01-01' AND o.ordered_at < '2027-01-01' GROUP BY i.category;

-- Q: How many customers have never written a review?
SELECT COUNT(*) FROM customers WHERE customer_id NOT IN (SELECT customer_id FROM reviews);

-- Q: How many orders does a customer place on average?
SELECT COUNT(*) * 1.0 / COUNT(DISTINCT customer_id) FROM orders;

-- Q: How many customers who opted in to marketing are in the critical band in the latest scores?
SELECT COUNT(*) FROM churn_scores s JOIN customers c ON c.customer_id = s.customer_id
WHERE s.scored_at = (SELECT MAX(scored_at) FROM churn_scores) AND s.risk_band = 'critical'
AND c.marketing_opt_in;

-- Q: How many support tickets were opened each month in 2026?
SELECT strftime('%Y-%m', opened_at) AS month, COUNT(*) AS tickets FROM support_tickets
WHERE opened_at >= '2026-01-01' GROUP BY month ORDER BY month;

-- Q: Which product was ordered most often?
SELECT product_id FROM order_items GROUP BY product_id ORDER BY COUNT(*) DESC LIMIT 1;

-- Q: How many customers closed their account in 2026?
SELECT COUNT(*) FROM customers WHERE closed_at >= '2026-01-01' AND closed_at < '2027-01-01';

-- Q: What is the total value of orders per status in 2025?
SELECT status, SUM(total_amount) AS total FROM orders
WHERE ordered_at >= '2025-01-01' AND ordered_at < '2026-01-01' GROUP BY status;

-- Q: How many customers have bought more than 5 times?
SELECT COUNT(*) FROM (SELECT customer_id FROM orders GROUP BY customer_id HAVING COUNT(*) > 5) AS frequent;

-- Q: What share of customers have left at least two reviews?
SELECT 100.0 * (SELECT COUNT(*) FROM (SELECT customer_id FROM reviews GROUP BY customer_id HAVING COUNT(*) >= 2) AS r)
  / (SELECT COUNT(*) FROM customers) AS share_percent;
