# Flink for compose/: Flink's own image (a session cluster: JobManager, TaskManagers), with the job jar that
# the flink-submit service submits to it with `flink run`, as scripts/cluster.sh does on one machine.
FROM eclipse-temurin:25-jdk AS build
WORKDIR /src
COPY . .
RUN ./mvnw -q -B -DskipTests package -pl cli -am -Pjob-jar

FROM flink:2.2.1-java21
COPY --from=build --chown=flink:flink /src/flink-jobs/target/flink-jobs-job.jar /opt/loadtest/flink-jobs-job.jar
