#!/usr/bin/env python3
"""Prints the monthly cost estimates of docs/deploy/*.md from AWS's public list prices and the
assumptions below, so that anyone can change an assumption and see the tables again:

    python3 docs/deploy/costs.py

Prices: USD list prices for ap-northeast-1 (Tokyo) as published in 2025 (Bedrock: Amazon Nova
Micro on-demand), without free tiers or savings plans. They were written down from AWS's pricing
pages, not fetched on the day (the machine these docs were written on has no internet): check
them in the AWS Pricing Calculator before deciding.
"""

PRICES = {
    "lambda_gb_second_arm64": 0.0000133334,
    "lambda_requests_per_million": 0.20,
    "rest_api_requests_per_million": 4.25,
    "websocket_messages_per_million": 1.14,      # each 32 KB of a message counts as one
    "websocket_connection_minutes_per_million": 0.285,
    "dynamodb_write_units_per_million": 0.715,   # on-demand
    "dynamodb_read_units_per_million": 0.1425,
    "dynamodb_gb_month": 0.285,
    "nova_micro_input_per_million_tokens": 0.035,
    "nova_micro_output_per_million_tokens": 0.14,
    "fargate_arm64_vcpu_hour": 0.04045,
    "fargate_arm64_gb_hour": 0.00444,
    "alb_hour": 0.0243,
    "alb_lcu_hour": 0.008,
    "agentcore_vcpu_hour": 0.0895,
    "agentcore_gb_hour": 0.00945,
    "cloudwatch_logs_ingest_gb": 0.76,
    "secrets_manager_secret_month": 0.40,
    "cloudfront_gb_japan": 0.114,
    "cloudfront_https_requests_per_10k": 0.012,
}

# One "message" is one user message and its streamed reply.
ASSUMPTIONS = {
    "input_tokens": 1000,        # the history the model sees, with the system prompt
    "output_tokens": 300,
    "reply_seconds": 3.0,        # the model's time to write the reply (Lambda bills it)
    "lambda_memory_gb": 0.5,
    "requests_per_message": 2,   # the message, plus a history or session-list read
    "websocket_frames_per_message": 30,  # seq'd deltas, tool events, done
    "write_units_per_message": 25,  # 2 transactional appends, reply events every 250 ms, claim, usage counters
    "read_units_per_message": 10,
    "stored_kb_per_message": 4,  # the pair of messages, kept 7 days (session.retention)
    "log_kb_per_message": 2,
    "fargate_tasks": 2, "fargate_vcpu": 0.5, "fargate_gb": 1.0,
    "agentcore_vcpu": 1.0, "agentcore_gb": 2.0,  # billed while the reply runs (CPU only while active)
    "page_views_per_message": 0.2, "page_kb": 120,
}

HOURS = 730
VOLUMES = [1_000, 100_000, 10_000_000]


def shared(n, p=PRICES, a=ASSUMPTIONS):
    """What every server shape pays per month for n messages: the model, DynamoDB, logs, the secret."""
    model = n * (a["input_tokens"] * p["nova_micro_input_per_million_tokens"] + a["output_tokens"] * p["nova_micro_output_per_million_tokens"]) / 1e6
    retained_gb = n / 30 * 7 * a["stored_kb_per_message"] / 1e6
    dynamodb = n * (a["write_units_per_message"] * p["dynamodb_write_units_per_million"] + a["read_units_per_message"] * p["dynamodb_read_units_per_million"]) / 1e6 \
        + retained_gb * p["dynamodb_gb_month"]
    logs = n * a["log_kb_per_message"] / 1e6 * p["cloudwatch_logs_ingest_gb"]
    return {"Bedrock (Nova Micro)": model, "DynamoDB": dynamodb, "CloudWatch Logs": logs, "Secrets Manager": p["secrets_manager_secret_month"]}


def lambda_compute(n, p=PRICES, a=ASSUMPTIONS):
    invocations = n * a["requests_per_message"]
    return n * a["reply_seconds"] * a["lambda_memory_gb"] * p["lambda_gb_second_arm64"] + invocations * p["lambda_requests_per_million"] / 1e6


def shapes(n, p=PRICES, a=ASSUMPTIONS):
    base = shared(n)
    rest = n * a["requests_per_message"] * p["rest_api_requests_per_million"] / 1e6
    websocket = n * (1 + a["websocket_frames_per_message"]) * p["websocket_messages_per_million"] / 1e6 \
        + n * 2 * p["websocket_connection_minutes_per_million"] / 1e6
    fargate = a["fargate_tasks"] * HOURS * (a["fargate_vcpu"] * p["fargate_arm64_vcpu_hour"] + a["fargate_gb"] * p["fargate_arm64_gb_hour"])
    alb = HOURS * (p["alb_hour"] + max(1, n / (HOURS * 3600) / 25) * p["alb_lcu_hour"])
    agentcore = n * a["reply_seconds"] / 3600 * (a["agentcore_vcpu"] * p["agentcore_vcpu_hour"] + a["agentcore_gb"] * p["agentcore_gb_hour"])
    views = n * a["page_views_per_message"]
    web = views * a["page_kb"] / 1e6 * p["cloudfront_gb_japan"] + views * 8 * p["cloudfront_https_requests_per_10k"] / 1e4
    return {
        "lambda-function-url": {**base, "Lambda": lambda_compute(n)},
        "api-gateway (REST)": {**base, "Lambda": lambda_compute(n), "API Gateway REST": rest},
        "api-gateway (WebSocket)": {**base, "Lambda": lambda_compute(n), "API Gateway WebSocket": websocket},
        "ecs-fargate": {**base, "Fargate (2 × 0.5 vCPU, 1 GB, arm64)": fargate, "Application Load Balancer": alb},
        "agentcore": {**base, "AgentCore Runtime": agentcore},
        "web": {"CloudFront + S3": web},
    }


if __name__ == "__main__":
    tables = {volume: shapes(volume) for volume in VOLUMES}
    for shape in tables[VOLUMES[0]]:
        print(f"\n### {shape}\n")
        print("| per month | " + " | ".join(f"{v:,} messages" for v in VOLUMES) + " |")
        print("|---|" + "---:|" * len(VOLUMES))
        for part in tables[VOLUMES[0]][shape]:
            print(f"| {part} | " + " | ".join(f"${tables[v][shape][part]:,.2f}" for v in VOLUMES) + " |")
        print("| **total** | " + " | ".join(f"**${sum(tables[v][shape].values()):,.2f}**" for v in VOLUMES) + " |")
