# Flink with the loadtest jobs as the user code of an application cluster (standalone-job).
# Built from the repository root:  docker build -f compose/flink.Dockerfile -t loadtest-flink .
# The same build step as the README's; the jobs' jar and its libraries go to /opt/flink/usrlib, without
# the Flink runtime jars the image already has in /opt/flink/lib.
FROM eclipse-temurin:25-jdk AS build
WORKDIR /src
COPY . .
RUN ./mvnw -q -B -DskipTests package -pl cli -am \
 && mkdir -p /usrlib && cp cli/target/lib/*.jar /usrlib/ \
 && cd /usrlib && for j in flink-*.jar; do case "$j" in flink-connector-*) ;; *) rm -f "$j" ;; esac; done

FROM flink:2.2.1-java21
COPY --from=build --chown=flink:flink /usrlib/ /opt/flink/usrlib/
