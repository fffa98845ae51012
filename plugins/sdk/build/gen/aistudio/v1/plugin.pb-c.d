build/gen/aistudio/v1/plugin.pb-c.o: build/gen/aistudio/v1/plugin.pb-c.c \
 build/gen/aistudio/v1/plugin.pb-c.h
build/gen/aistudio/v1/plugin.pb-c.h:
