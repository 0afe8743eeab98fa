# The pgcache command line, for the compose demo: runs operator commands against the database service.
# Build from the repository root:  docker build -f docker/demo.Dockerfile -t pgcache-cli .
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
ENTRYPOINT ["npm", "run", "--silent", "cli", "--"]
CMD ["--help"]
