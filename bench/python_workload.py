# python_workload.py - an allocation-heavy Python run for the overhead
# benchmark (run with PYTHONMALLOC=malloc so every object hits malloc).
import json

records = []
for i in range(60000):
    records.append({"id": i, "name": "item-%d" % i, "tags": [str(i % 7), str(i % 13)]})
text = json.dumps(records)
decoded = json.loads(text)
index = {r["name"]: r for r in decoded}
total = sum(len(r["tags"]) for r in index.values())
words = " ".join(r["name"] for r in decoded).split()
print(len(text), total, len(set(words)))
